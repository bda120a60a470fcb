// How far V8 may grow the proxy's young generation, the same in every runtime the proxy has: the VS Code worker
// takes it as a resource limit (host/proxyWorkerClient.ts), `npm start` as a node flag (package.json; a test keeps
// the two equal). V8's default lets a semi-space grow to 16 MB, and it does so once as many bytes have survived its
// scavenges as the young generation holds, which a proxy under load reaches within some thousands of requests: each
// request's state survives while it is in flight. At 8 MB the proxy keeps the young generation a node pass-through
// keeps under the same load; measured (README, Performance): ~12 MB less peak RSS in fresh processes, 1–2 % more CPU
// per request.
// No `vscode` here.

/** The largest semi-space, in MB (node's `--max-semi-space-size`). */
export const SEMI_SPACE_MB = 8;

/**
 * The same cap as a worker's `resourceLimits.maxYoungGenerationSizeMb`: V8 counts the young generation as two
 * semi-spaces and a large-object space of one semi-space's size.
 */
export const YOUNG_GENERATION_MB = 3 * SEMI_SPACE_MB;

/** The node flag that applies the cap to a process's main thread. */
export const SEMI_SPACE_FLAG = `--max-semi-space-size=${SEMI_SPACE_MB}`;
