// A chat room: everyone connected gets every message. The wire format is small JSON objects (see README);
// a client may also send a bare line of text, so that `streamsocket connect` works as a chat client too.
import { goingAway } from '@streamsocket/node';

/** Longest message text accepted, in characters. The page limits its input to the same. */
export const MAX_TEXT = 500;
/**
 * Bytes a member may lag behind before being dropped. Writes to members are not awaited (one slow reader must
 * not hold up the room), so this bound is what keeps a stalled tab from growing the server's memory.
 */
export const MAX_BACKLOG = 1024 * 1024;

export class Room {
  #members = new Map(); // ws -> { name, writer }
  #seq = 0;
  #log;

  constructor({ log = () => {} } = {}) {
    this.#log = log;
  }

  get size() {
    return this.#members.size;
  }

  /** Runs one member from join to leave; resolves when the member's connection ended. */
  async join(ws) {
    const { readable, writable } = await ws.opened;
    const name = `guest-${++this.#seq}`;
    const member = { name, writer: writable.getWriter() };
    this.#members.set(ws, member);
    this.#log(`${name} joined (${this.size} online)`);
    this.#send(member, ws, { type: 'welcome', name, online: this.size });
    this.#broadcast({ type: 'join', name, online: this.size }, ws);
    try {
      for await (const data of readable) {
        const text = parseText(data);
        if (text === null) continue;
        this.#broadcast({ type: 'message', name, text, at: Date.now() });
      }
    } catch {
      // The connection broke (reset, protocol error): `ws.closed` has the details; leaving is all that is left.
    } finally {
      this.#members.delete(ws);
      this.#log(`${name} left (${this.size} online)`);
      this.#broadcast({ type: 'leave', name, online: this.size });
    }
  }

  /** Closes every member with 1001 (going away). */
  closeAll(reason = 'server shutting down') {
    for (const ws of this.#members.keys()) goingAway(ws, reason);
  }

  #broadcast(event, except) {
    const json = JSON.stringify(event);
    for (const [ws, member] of this.#members) if (ws !== except) this.#send(member, ws, json);
  }

  #send(member, ws, event) {
    const { writer } = member;
    if (writer.desiredSize !== null && writer.desiredSize < -MAX_BACKLOG) {
      this.#log(`${member.name} is too slow, disconnecting`);
      goingAway(ws, 'too slow', 1013);
      return;
    }
    writer.write(typeof event === 'string' ? event : JSON.stringify(event)).catch(() => {});
  }
}

/** The text of an incoming message: `{"text": "..."}` or a bare line; null for nothing worth relaying. */
export function parseText(data) {
  if (typeof data !== 'string') return null; // binary: this room speaks text
  let text = data;
  if (data.startsWith('{')) {
    try {
      const m = JSON.parse(data);
      if (typeof m?.text !== 'string') return null;
      text = m.text;
    } catch {
      // not JSON after all: a line that happens to start with '{'
    }
  }
  text = text.trim();
  if (text === '') return null;
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
}
