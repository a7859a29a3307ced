// ESLint (flat config): typescript-eslint's recommended rules for every TypeScript file; formatting is Prettier's.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "bin/", "render/", "out/", ".pulumi-state/", "reports/", ".stryker-tmp/"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        rules: {
            // Dynamic providers must `require` Node modules inside their methods (their closures are serialized).
            "@typescript-eslint/no-require-imports": "off",
            // Test doubles and parsed YAML are untyped by nature; a cast at the boundary is clearer than a type.
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
            "max-len": [
                "error",
                {
                    code: 120,
                    ignoreUrls: true,
                    ignoreStrings: true,
                    ignoreTemplateLiterals: true,
                    ignoreRegExpLiterals: true,
                },
            ],
        },
    },
);
