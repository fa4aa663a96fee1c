// Preloaded (node --import / bun --preload) when run.mjs profiles: exit cleanly on SIGTERM so that --cpu-prof
// writes its profile (a SIGKILLed process writes nothing).
process.on('SIGTERM', () => process.exit(0));
