/** Real OpenSSH public keys made with ssh-keygen for the tests (public keys: nothing secret). */
export const KEYS = {
    ed25519: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIONfSX8Uvc77o4wL4Rxv5iUXCmpMRQdKqWg0Ut61NdO+ k-ed25519",
    rsa2048:
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCdjkSHe/FW3eKapEr2DiQ3w9r96bwJVf0xDwkWR7SOoac+amcPGt+B4uUFzY3w43RAbM56TrFBDYQ0oWzOKyjWEGVUNK1Nk/ymOJ9tW4WYbAE5HImtEDeb4gwymLRhfmoCgfatZWOtnhnrCMF+b+VD0IBHC70SaX+J/w6nuRqMaczSkLPnxU5YBj4jzbu9ElGc/lCGO3rcq4K7q8u8/WFnlP/ICabtdYMemt9gIvm5Wmnp1DA8ZWbFo2iy2zFzaZo90FGJZba+tV0jN5jjQ3w7pROfm8FrPE/oDoDZLs6kJd/ndKbODrW6JzGsN4gkp1OGIgYJyewFRhoC4+wIVZnH k-rsa2048",
    ecdsa256:
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPH+ySEQpA6dgg5FbUY/EZK82Nl9DD4znqxqm6f0OnxwHOcveHiq1xOTsK9hS21S8XasJskan/UQ8LtvlvRY1BQ= k-ecdsa256",
    ecdsa384:
        "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBN2I46IB1YOIFrfWbwKhHxu0HkFowxlR5rYH36Nka/uECbH8i3WbujylpE75na4vzw+KUCyLgSovRWgHFGrMUUipGZ3KBRsgwip1Mrke8TgUj28KCO7Io2A24OlBHATZAA== k-ecdsa384",
    ecdsa521:
        "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAH5iaRqqHWgMxcEf7YSJ0KokfEN8U4SUDP5wrR8e2sf9LcMkIidwI13YTloHYMYinW/ltv6hw6ndJXJxhul9ce4aADQHxgqNiaL8h+5yy7iLJpaa/aHJr1IRQb7BO79EfplnuhSz/2nfOIP0YIOXtfLMrn/GTeRYeGZ9Ai50Id5PRK8WQ== k-ecdsa521",
} as const;
