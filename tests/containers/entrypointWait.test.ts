/**
 * The entrypoint's waits for SLURM_WAIT_FOR, performed for real (ENTRYPOINT_DRY_RUN=wait) against local ports this
 * test opens or keeps closed, and its readiness probes.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import {
    closedPort,
    fixture,
    openPort,
    ROLES_LIST,
    run,
    scratchDir,
    SLURM_CONF,
    SLURMDBD_CONF,
    useScratch,
} from "./entrypointScript";

describe("slurm image entrypoint.sh: waits and probes", function () {
    useScratch();

    describe("waiting (ENTRYPOINT_DRY_RUN=wait performs the waits)", () => {
        it("times out on a closed port with a clear error that names the target, after logging the failed attempts", async () => {
            const port = await closedPort();
            const env = {
                ...fixture("wait-closed", { slurmConf: SLURM_CONF }),
                ENTRYPOINT_DRY_RUN: "wait",
                SLURM_WAIT_FOR: `127.0.0.1:${port}`,
                SLURM_WAIT_TIMEOUT_SECONDS: "5",
            };
            const started = Date.now();
            const result = await run(["compute"], env);
            const seconds = (Date.now() - started) / 1000;
            assert.equal(result.status, 1, result.stderr);
            const target = `127\\.0\\.0\\.1:${port}`;
            assert.match(result.stderr, new RegExp(`waiting for ${target}: attempt 1 failed, \\d+ s elapsed`));
            const attempts = Number(
                new RegExp(
                    `error: timed out after \\d+ s waiting for ${target} \\(from SLURM_WAIT_FOR; (\\d+) attempts\\)`,
                ).exec(result.stderr)?.[1],
            );
            // Pauses of 0.1, 0.2, 0.4, 0.5, 0.5 ... s give about a dozen attempts in 5 s; pauses of 1, 2, 4 s would
            // give 3. At least 4 leaves 3.8 s of the 5 for the attempts themselves, ample on a loaded machine.
            assert.ok(
                attempts >= 4,
                `expected at least 4 attempts in 5 s, the log says ${attempts}:\n${result.stderr}`,
            );
            assert.ok(seconds >= 5, `gave up after ${seconds} s, before its timeout of 5 s`);
            assert.ok(!result.stderr.includes("accepts connections"));
        });

        // Asserted on what the entrypoint did (its attempts, its log, the connection the dependency saw), not on
        // elapsed time, which a loaded machine stretches: the first attempt connects, and it goes on without a pause.
        it("goes on at once when the dependency accepts: one attempt, one connection, no failed attempt", async () => {
            let connections = 0;
            let connected: () => void = () => undefined;
            const seen = new Promise<void>((resolve) => (connected = resolve));
            const server = net.createServer((socket) => {
                connections++;
                connected();
                socket.destroy();
            });
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            const port = (server.address() as net.AddressInfo).port;
            try {
                const env = {
                    ...fixture("wait-open", { slurmdbdConf: SLURMDBD_CONF }),
                    ENTRYPOINT_DRY_RUN: "wait",
                    SLURM_WAIT_FOR: `127.0.0.1:${port}`,
                    // Far above any run: only a broken wait could reach it, and the test then fails on its log.
                    SLURM_WAIT_TIMEOUT_SECONDS: "60",
                };
                const result = await run(["slurmdbd"], env, 90_000);
                assert.equal(result.status, 0, result.stderr);
                assert.match(
                    result.stderr,
                    new RegExp(`127\\.0\\.0\\.1:${port} accepts connections \\(attempt 1, \\d+ s elapsed\\)`),
                );
                assert.doesNotMatch(result.stderr, /attempt \d+ failed/);
                // The log's "accepts" is the dependency's own experience too: it was connected to.
                await seen;
                assert.equal(connections, 1);
            } finally {
                await new Promise<void>((resolve) => server.close(() => resolve()));
            }
        });

        it("sees a dependency that comes up while it waits, and then waits for the next one", async () => {
            const first = await closedPort();
            const second = await openPort();
            let late: { port: number; close: () => Promise<void> } | undefined;
            let opening: Promise<void> | undefined;
            try {
                const server = net.createServer((socket) => socket.destroy());
                const env = {
                    ...fixture("wait-late", { slurmConf: SLURM_CONF }),
                    ENTRYPOINT_DRY_RUN: "wait",
                    SLURM_WAIT_FOR: `127.0.0.1:${first} 127.0.0.1:${second.port}`,
                    SLURM_WAIT_TIMEOUT_SECONDS: "60",
                };
                // Open the first port once the entrypoint has reported a failed attempt on it.
                const result = await run(["login"], env, 90_000, (log) => {
                    if (!opening && log.includes(`127.0.0.1:${first}: attempt 1 failed`)) {
                        opening = new Promise<void>((resolve) => server.listen(first, "127.0.0.1", resolve));
                        late = {
                            port: first,
                            close: () => new Promise<void>((resolve) => server.close(() => resolve())),
                        };
                    }
                });
                assert.equal(result.status, 0, result.stderr);
                assert.match(
                    result.stderr,
                    new RegExp(`127\\.0\\.0\\.1:${first} accepts connections \\(attempt ([2-9]|\\d\\d+),`),
                );
                assert.match(
                    result.stderr,
                    new RegExp(`127\\.0\\.0\\.1:${second.port} accepts connections \\(attempt 1,`),
                );
                assert.ok(
                    result.stderr.indexOf(`:${first} accepts`) < result.stderr.indexOf(`:${second.port} accepts`),
                    "in order",
                );
            } finally {
                await opening;
                await late?.close();
                await second.close();
            }
        });
    });

    describe("probe", () => {
        it("rejects an unknown role", async () => {
            const result = await run(["probe", "dbd"]);
            assert.notEqual(result.status, 0);
            assert.ok(result.stderr.includes(`unknown role "dbd"; ${ROLES_LIST}`), result.stderr);
            assert.match(result.stderr, /^entrypoint\[probe\/dbd\]: error: /m);
        });

        it("slurmdbd is ready when its DbdPort accepts connections on localhost, and not before", async () => {
            const etc = fs.mkdtempSync(path.join(scratchDir(), "probe-"));
            const server = await openPort();
            try {
                fs.writeFileSync(path.join(etc, "slurmdbd.conf"), `DbdPort=${server.port}\n`, { mode: 0o600 });
                const ready = await run(["probe", "slurmdbd"], { SLURM_ETC: etc });
                assert.equal(ready.status, 0, ready.stderr);
            } finally {
                await server.close();
            }
            const notReady = await run(["probe", "slurmdbd"], { SLURM_ETC: etc, PROBE_TIMEOUT_SECONDS: "2" });
            assert.notEqual(notReady.status, 0);
            assert.match(
                notReady.stderr,
                new RegExp(`slurmdbd does not accept connections on 127\\.0\\.0\\.1:${server.port}`),
            );
        });
    });
});
