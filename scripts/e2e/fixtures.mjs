// Hook for e2e test authors: runs before code-server starts, after the temp root exists.
// ctx: { root, home, userDataDir, extensionsDir, workspace, logs, env, settings } (env = knobs the extension host
// will see, settings = user settings.json about to be written). Write files (e.g. a codex-helper config under
// ctx.env.CODEX_HELPER_HOME) and return { settings?, env? } to add user settings / environment variables.

/** Prepares extra files, settings and environment for the e2e run; the default does nothing. */
export async function prepare(_root, _ctx) {
  return {};
}
