/** How `npm run up|preview|destroy` stops when asked (scripts/lib/action.ts, watchInterrupts). */
import { strict as assert } from "node:assert";
import { runAction, watchInterrupts } from "../../../scripts/lib/action";
import { fakeStack, fakeTools } from "./stackDoubles";

describe("npm run up / preview / destroy: asked to stop", () => {
    function watched() {
        const handlers: Record<string, () => void> = {};
        const said: string[] = [];
        const exits: number[] = [];
        const signal = watchInterrupts(
            (name, handler) => (handlers[name] = handler),
            (line) => said.push(line),
            (code) => exits.push(code),
        );
        return { handlers, said, exits, signal };
    }

    it("Ctrl-C (which reaches the Pulumi CLI too) only waits: no abort, no exit, said once", () => {
        const { handlers, said, exits, signal } = watched();
        handlers.SIGINT();
        handlers.SIGINT();
        assert.equal(
            signal.aborted,
            false,
            "the CLI got the Ctrl-C itself; a second SIGINT would make it stop at once",
        );
        assert.deepEqual(exits, []);
        assert.equal(said.length, 1);
        assert.match(said[0], /stopping cleanly and releasing the stack's lock/);
    });

    it("SIGTERM (which reaches this process alone) is passed on once, as an abort; a second one exits at once", () => {
        const { handlers, said, exits, signal } = watched();
        handlers.SIGTERM();
        assert.equal(signal.aborted, true);
        assert.deepEqual(exits, []);
        handlers.SIGTERM();
        assert.deepEqual(exits, [143]);
        assert.equal(said.length, 1);
    });

    it("hands the signal to the Automation API's up, preview and destroy", async () => {
        const signal = new AbortController().signal;
        for (const action of ["up", "preview", "destroy"] as const) {
            const { stack, ran } = fakeStack();
            const { tools } = fakeTools(stack);
            await runAction(action, "dev", { ...tools, interrupt: signal });
            assert.equal(ran[0].options.signal, signal, action);
        }
    });
});
