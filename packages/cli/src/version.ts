/**
 * The package version, printed by `streamsocket --version`. Kept equal to package.json's by `npm run
 * version-packages` (packages/devtools/sync-cli-version.mjs; the release suite checks it).
 */
export const version = '0.1.0';
