/**
 * @streamsocket/redis: carries the session's topics between processes and machines through Redis pub/sub
 * (`new RedisBackplane({ url })`, passed as the `topics.backplane` of serve() or a websocketRoute).
 */
export { RedisBackplane } from './backplane.js';
export type { RedisBackplaneOptions } from './backplane.js';
