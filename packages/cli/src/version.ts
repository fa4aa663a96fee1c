/** The package version, printed by `streamsocket --version`. Kept in step with package.json by the release commit. */
export const version = '0.1.0';
