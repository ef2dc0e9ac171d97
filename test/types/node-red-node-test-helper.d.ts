declare module 'node-red-node-test-helper' {
  import type { Node } from 'node-red';

  interface TestHelper {
    init(runtimePath: string, userSettings?: Record<string, unknown>): void;
    settings(userSettings: Record<string, unknown>): Record<string, unknown>;
    load(nodes: unknown, flow: unknown[], credentials?: Record<string, unknown>): Promise<void>;
    unload(): Promise<void>;
    getNode(id: string): Node & { receive(msg: Record<string, unknown>): void };
    startServer(done?: () => void): Promise<void>;
    stopServer(done?: () => void): Promise<void>;
    /** The sinon spy on RED.log.log: each call's first argument is the log record. */
    log(): { args: unknown[][] };
  }
  const helper: TestHelper;
  export default helper;
}
