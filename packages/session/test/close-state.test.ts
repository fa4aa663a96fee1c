// The closing handshake's state (close-state.ts) driven directly: no transport, no timers, no streams. Each test
// feeds inputs as a driver would and checks the actions answered, the state, and what would be reported.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CodecError } from '@streamsocket/codec';
import * as C from '../src/close-state.js';
import { CloseState, clampReason, OPEN, CLOSING, CLOSED } from '../src/close-state.js';

const ACTIONS = [
  'END_READABLE', 'WAKE_READER', 'PAUSE_INPUT', 'ARM_TIMER', 'REARM_TIMER', 'AWAIT_READER', 'SEND_CLOSE', 'SEND_CLOSE_NOW',
  'FAIL_READABLE', 'SHUTDOWN', 'ABORT', 'FINISH_AFTER_FLUSH', 'FINISH', 'STOP_READING',
] as const;

/** The names of the action bits in `a`, in the order a driver carries them out. */
function acts(a: number): string[] {
  const out: string[] = [];
  for (const name of ACTIONS) if (a & (C as unknown as Record<string, number>)[name]!) out.push(name);
  return out;
}

const protocolError = (closeCode = 1002, message = 'reserved opcode 3') => new CodecError(closeCode, 'TEST', message);

test('the action bits are distinct single bits, declared in the order they are carried out', () => {
  let prev = 0;
  for (const name of ACTIONS) {
    const bit = (C as unknown as Record<string, number>)[name]!;
    assert.ok(bit > prev, `${name} follows the one before it`);
    assert.is(bit & (bit - 1), 0, `${name} is one bit`);
    prev = bit;
  }
});

test('a new state is open, with nothing queued, sent or received', () => {
  const s = new CloseState('server');
  assert.is(s.readyState, OPEN);
  assert.is(s.pending, false);
  assert.is(s.sent, false);
  assert.is(s.received, null);
  assert.is(s.error, null);
  assert.is(s.closeCode, 1006, 'nothing clean yet');
});

// ---------------------------------------------------------------- we close first

for (const role of ['server', 'client'] as const) {
  test(`${role}: we close first; our frame, then theirs`, () => {
    const s = new CloseState(role);
    assert.equal(acts(s.appClose(4000, 'done')), ['WAKE_READER', 'ARM_TIMER', 'SEND_CLOSE']);
    assert.is(s.readyState, CLOSING);
    assert.is(s.pending, true);
    assert.equal([s.code, s.reason], [4000, 'done']);
    assert.equal(acts(s.closeSent()), [], 'waiting for the peer');
    assert.is(s.sent, true);
    assert.is(s.pending, false);
    const a = acts(s.closeFrameReceived(4000, 'done'));
    if (role === 'server') {
      // The server closes TCP first (RFC 6455 7.1.1), and reports once its bytes are out.
      assert.equal(a, ['END_READABLE', 'SHUTDOWN', 'FINISH_AFTER_FLUSH']);
      assert.is(s.readyState, CLOSING, 'until flushed');
      assert.equal(acts(s.writeEnd(null)), []);
      assert.equal(acts(s.flushed()), ['FINISH']);
    } else {
      // The client waits for the server's FIN, bounded by the close timer restarted now.
      assert.equal(a, ['END_READABLE', 'REARM_TIMER']);
      assert.equal(acts(s.endOfInput()), ['SHUTDOWN', 'FINISH_AFTER_FLUSH']);
      assert.equal(acts(s.flushed()), ['FINISH']);
    }
    assert.is(s.readyState, CLOSED);
    assert.is(s.clean, true);
    assert.is(s.closeCode, 4000);
    assert.is(s.closeReason, 'done');
  });

  test(`${role}: the peer closes first; we echo its code and reason`, () => {
    const s = new CloseState(role);
    assert.equal(acts(s.closeFrameReceived(1001, 'going')), ['END_READABLE', 'ARM_TIMER', 'SEND_CLOSE']);
    assert.is(s.readyState, CLOSING);
    assert.equal([s.code, s.reason], [1001, 'going'], 'the echo carries its code and reason');
    const a = acts(s.closeSent());
    if (role === 'server') assert.equal(a, ['SHUTDOWN', 'FINISH_AFTER_FLUSH']);
    else assert.equal(a, ['REARM_TIMER']);
    if (role === 'client') assert.equal(acts(s.endOfInput()), ['SHUTDOWN', 'FINISH_AFTER_FLUSH']);
    assert.equal(acts(s.flushed()), ['FINISH']);
    assert.equal([s.closeCode, s.closeReason, s.clean], [1001, 'going', true]);
  });
}

test('a close frame without a code is reported as 1005 and echoed without a code', () => {
  const s = new CloseState('server');
  s.closeFrameReceived(1005, '');
  assert.equal([s.code, s.reason], [null, ''], 'no code in the echo (RFC 6455 5.5.1)');
  s.closeSent();
  s.flushed();
  assert.equal([s.closeCode, s.closeReason], [1005, '']);
});

test('our close without a code goes out without one', () => {
  const s = new CloseState('client');
  s.appClose(null, '');
  assert.equal([s.code, s.reason], [null, '']);
});

test('the client already saw the FIN when the exchange completes: it finishes at once', () => {
  const s = new CloseState('client');
  s.appClose(1000, '');
  // The peer's close frame and its FIN both arrive while ours still waits behind queued writes.
  assert.equal(acts(s.closeFrameReceived(1000, '')), ['END_READABLE'], 'our close is not out yet');
  assert.equal(acts(s.endOfInput()), ['SHUTDOWN', 'FINISH_AFTER_FLUSH'], 'EOF after the peer\'s close frame is a clean end');
  assert.equal(acts(s.closeSent()), [], 'the transport is already shutting down');
  assert.equal(acts(s.flushed()), ['FINISH']);
  assert.is(s.clean, true);
});

test('simultaneous close: each side\'s own frame is already queued when the other\'s arrives', () => {
  const s = new CloseState('server');
  s.appClose(4002, 's');
  assert.equal(acts(s.closeFrameReceived(4001, 'c')), ['END_READABLE'], 'no echo: our own close is the answer');
  assert.equal([s.code, s.reason], [4002, 's']);
  assert.equal(acts(s.closeSent()), ['SHUTDOWN', 'FINISH_AFTER_FLUSH']);
  s.flushed();
  assert.equal([s.closeCode, s.closeReason], [4001, 'c'], 'we report the peer\'s code');
});

test('close twice, close after the peer\'s close, close after closed: one close frame', () => {
  const s = new CloseState('client');
  s.appClose(1000, 'first');
  assert.is(s.appClose(3000, 'second'), 0);
  assert.equal([s.code, s.reason], [1000, 'first']);
  const t = new CloseState('client');
  t.closeFrameReceived(4000, '');
  assert.is(t.appClose(3000, 'late'), 0, 'the echo is already queued');
  assert.equal(t.code, 4000);
  assert.is(t.closeFrameReceived(4001, 'again'), 0, 'a second close frame is ignored');
  assert.equal(t.received, { closeCode: 4000, reason: '' });
  t.closeSent();
  t.abnormal(new Error('gone'));
  assert.is(t.appClose(1000, ''), 0);
  assert.is(t.closeSent(), 0);
  assert.is(t.timerFired(), 0);
  assert.is(t.endOfInput(), 0);
  assert.is(t.readFailed(new Error('x')), 0);
  assert.is(t.protocolError(protocolError()), 0);
  assert.is(t.abnormal(new Error('again')), 0);
  assert.is(t.flushed(), 0);
});

// ---------------------------------------------------------------- abnormal ends

test('EOF before any close frame is abnormal: abort, 1006', () => {
  const s = new CloseState('server');
  assert.equal(acts(s.endOfInput()), ['ABORT', 'FINISH']);
  assert.is(s.readyState, CLOSED);
  assert.is(s.closeCode, 1006);
  assert.match(String((s.cause as Error).message), /without a close frame/);
  assert.is(s.shut, true);
});

test('EOF after our close frame but before the peer\'s is abnormal too', () => {
  const s = new CloseState('client');
  s.appClose(1000, '');
  s.closeSent();
  assert.equal(acts(s.endOfInput()), ['ABORT', 'FINISH']);
  assert.is(s.closeCode, 1006);
});

test('a read error: abnormal while open; once both frames are exchanged, the peer just left', () => {
  const s = new CloseState('server');
  const err = new Error('reset');
  assert.equal(acts(s.readFailed(err)), ['ABORT', 'FINISH']);
  assert.is(s.cause, err);
  const t = new CloseState('client');
  t.appClose(1000, '');
  t.closeSent();
  t.closeFrameReceived(1000, '');
  assert.equal(acts(t.readFailed(new Error('reset'))), ['SHUTDOWN', 'FINISH_AFTER_FLUSH']);
  assert.is(t.eof, true);
  t.flushed();
  assert.is(t.clean, true);
});

test('a failed write: abnormal before any close frame; ignored once ours is out or theirs came', () => {
  const s = new CloseState('server');
  const err = new Error('EPIPE');
  assert.equal(acts(s.writeEnd(err)), ['ABORT', 'FINISH']);
  assert.is(s.cause, err);
  assert.is(s.writeEnded, true);
  assert.equal(acts(s.release()), ['STOP_READING'], 'the write side is gone: only reading is left to stop');

  const t = new CloseState('client');
  t.appClose(1000, '');
  t.closeSent();
  assert.equal(acts(t.writeEnd(new Error('EPIPE'))), [], 'the peer closing first; its close frame may still come');
  assert.is(t.readyState, CLOSING);
  assert.is(t.writeEnd(new Error('again')), 0, 'the write side ends once');

  const u = new CloseState('server');
  u.closeFrameReceived(1000, '');
  assert.equal(acts(u.writeEnd(new Error('EPIPE'))), []);
  assert.equal(acts(new CloseState('server').writeEnd(null)), [], 'a clean end of the write side decides nothing');
});

test('keepalive timeout or any abrupt end: 1006 with its cause, whatever the peer sent', () => {
  const s = new CloseState('client');
  s.closeFrameReceived(1000, 'bye');
  const err = new Error('keepalive timeout');
  assert.equal(acts(s.abnormal(err)), ['ABORT', 'FINISH']);
  assert.equal([s.closeCode, s.clean, s.cause], [1006, false, err], 'the exchange never completed');
});

// ---------------------------------------------------------------- the close timer

test('close timer: a peer that never answers our close frame -> abort, 1006', () => {
  const s = new CloseState('server');
  s.appClose(1000, '');
  s.closeSent();
  assert.equal(acts(s.timerFired()), ['ABORT', 'FINISH']);
  assert.is(s.closeCode, 1006);
  assert.match(String((s.cause as Error).message), /did not answer the close frame/);
});

test('close timer while our close still waits behind writes: abnormal too', () => {
  const s = new CloseState('client');
  s.appClose(1000, '');
  assert.equal(acts(s.timerFired()), ['ABORT', 'FINISH']);
  assert.is(s.pending, false, 'nothing is sent after the end');
});

test('close timer after the exchange (client waiting for the FIN): abort, but a clean close', () => {
  const s = new CloseState('client');
  s.appClose(4000, 'x');
  s.closeSent();
  assert.equal(acts(s.closeFrameReceived(4000, 'x')), ['END_READABLE', 'REARM_TIMER']);
  assert.equal(acts(s.timerFired()), ['ABORT', 'FINISH']);
  assert.equal([s.closeCode, s.closeReason, s.clean], [4000, 'x', true]);
  assert.match(String((s.cause as Error).message), /close timeout/, 'the abort says why');
});

test('close timer while a server\'s flush hangs: the abort wins, 1006', () => {
  const s = new CloseState('server');
  s.appClose(1000, '');
  s.closeSent();
  s.closeFrameReceived(1000, '');
  // Both frames exchanged, FIN on its way but the transport never reports the write side ended.
  assert.equal(acts(s.timerFired()), ['ABORT', 'FINISH']);
  assert.is(s.clean, true, 'the exchange completed');
  assert.is(s.flushed(), 0, 'a late flush changes nothing');
});

// ---------------------------------------------------------------- protocol errors

test('protocol error while open: the reader first, then the error\'s close frame, then 1006', () => {
  const s = new CloseState('server');
  const e = protocolError(1007, 'invalid UTF-8');
  assert.equal(acts(s.protocolError(e)), ['PAUSE_INPUT', 'ARM_TIMER', 'AWAIT_READER']);
  assert.is(s.readyState, OPEN, 'still open while the reader takes what was decoded before the error');
  assert.is(s.error, e);
  assert.equal(acts(s.readerDone()), ['SEND_CLOSE']);
  assert.is(s.readyState, CLOSING);
  assert.equal([s.code, s.reason], [1007, 'invalid UTF-8']);
  assert.equal(acts(s.readerDone()), [], 'queued once');
  assert.equal(acts(s.closeSent()), ['FAIL_READABLE', 'SHUTDOWN', 'FINISH_AFTER_FLUSH']);
  assert.equal(acts(s.endOfInput()), [], 'EOF while failing changes nothing: the flush ends it');
  assert.equal(acts(s.flushed()), ['FINISH']);
  assert.equal([s.closeCode, s.clean, s.cause], [1006, false, e], 'reported as 1006, the error as cause');
});

for (const code of [1002, 1007, 1009]) {
  test(`protocol error ${code}: its code is what goes out`, () => {
    const s = new CloseState('client');
    s.protocolError(protocolError(code, 'x'));
    s.readerDone();
    assert.is(s.code, code);
  });
}

test('protocol error while our close waits behind writes: its code replaces ours, queued at once', () => {
  const s = new CloseState('server');
  s.appClose(4000, 'app');
  assert.equal(acts(s.protocolError(protocolError(1009, 'too big'))), ['PAUSE_INPUT', 'ARM_TIMER', 'SEND_CLOSE']);
  assert.equal([s.code, s.reason], [1009, 'too big']);
  assert.equal(acts(s.closeSent()), ['FAIL_READABLE', 'SHUTDOWN', 'FINISH_AFTER_FLUSH']);
});

test('protocol error after our close frame went out: fail at once, no second close frame', () => {
  const s = new CloseState('client');
  s.appClose(1000, '');
  s.closeSent();
  assert.equal(acts(s.protocolError(protocolError())), ['PAUSE_INPUT', 'ARM_TIMER', 'FAIL_READABLE', 'SHUTDOWN', 'FINISH_AFTER_FLUSH']);
  assert.equal(s.code, 1000, 'ours stays the one sent');
  s.flushed();
  assert.is(s.closeCode, 1006);
});

test('bytes that fail to decode after the peer\'s close frame are its end of input, not an error', () => {
  const s = new CloseState('client');
  s.appClose(1000, '');
  s.closeSent();
  s.closeFrameReceived(1000, '');
  assert.equal(acts(s.protocolError(protocolError())), ['SHUTDOWN', 'FINISH_AFTER_FLUSH']);
  assert.is(s.error, null);
  s.flushed();
  assert.is(s.clean, true);
});

test('a second protocol error, or a read error while failing', () => {
  const s = new CloseState('server');
  const first = protocolError(1002, 'first');
  s.protocolError(first);
  assert.is(s.protocolError(protocolError(1007, 'second')), 0);
  assert.is(s.error, first);
  const err = new Error('reset');
  assert.equal(acts(s.readFailed(err)), ['ABORT', 'FINISH'], 'the transport failed: nothing more can be sent');
  assert.is(s.cause, err);
});

test('close timer while the reader or the writes hold up the error\'s close frame: sent now, timer again', () => {
  const s = new CloseState('server');
  s.protocolError(protocolError());
  assert.equal(acts(s.timerFired()), ['ARM_TIMER', 'SEND_CLOSE_NOW']);
  assert.is(s.errorQueued, true);
  assert.equal(acts(s.readerDone()), [], 'the fail timer firing late adds nothing');
  // Queued but still held back (a write in flight): the next expiry forces it out too.
  assert.equal(acts(s.timerFired()), ['ARM_TIMER', 'SEND_CLOSE_NOW']);
  assert.equal(acts(s.closeSent()), ['FAIL_READABLE', 'SHUTDOWN', 'FINISH_AFTER_FLUSH']);
  // The peer never takes our bytes: the third expiry gives up.
  assert.equal(acts(s.timerFired()), ['ABORT', 'FINISH']);
  assert.is(s.closeCode, 1006);
});

test('the application closes while a protocol error waits for the reader: the error\'s code wins', () => {
  const s = new CloseState('client');
  s.protocolError(protocolError(1007, 'bad text'));
  assert.equal(acts(s.appClose(1000, '')), ['WAKE_READER', 'ARM_TIMER', 'SEND_CLOSE']);
  assert.equal(s.code, 1000);
  assert.equal(acts(s.readerDone()), ['SEND_CLOSE']);
  assert.equal([s.code, s.reason], [1007, 'bad text']);
});

test('a protocol error\'s reason is cut to 123 UTF-8 bytes, on a character boundary', () => {
  const s = new CloseState('server');
  s.protocolError(protocolError(1002, 'é'.repeat(100)));
  s.readerDone();
  assert.is(s.reason, 'é'.repeat(61), '122 bytes: a 62nd two-byte character would not fit');
  assert.is(clampReason('short'), 'short');
  assert.is(clampReason('x'.repeat(200)).length, 123);
});

// ---------------------------------------------------------------- the transport

test('release(): stop reading if the write side ended, shut down after a clean end, abort after an unclean one', () => {
  const a = new CloseState('server');
  a.closeFrameReceived(1000, '');
  a.closeSent(); // SHUTDOWN already asked for
  a.flushed();
  assert.equal(acts(a.release()), [], 'already shutting down');
  const b = new CloseState('client');
  b.closeFrameReceived(1000, '');
  b.closeSent();
  assert.equal(acts(b.timerFired()), ['ABORT', 'FINISH']); // clean, aborted
  assert.equal(acts(b.release()), [], 'the abort already tore the transport down');
  const c = new CloseState('server');
  c.abnormal(new Error('x'));
  c.writeEnd(new Error('x'));
  assert.equal(acts(c.release()), ['STOP_READING']);
});

test('finishing after the flush is asked once, and the first reason decides', () => {
  const s = new CloseState('client');
  s.appClose(1000, '');
  s.closeSent();
  s.closeFrameReceived(1000, '');
  assert.equal(acts(s.endOfInput()), ['SHUTDOWN', 'FINISH_AFTER_FLUSH']);
  assert.equal(acts(s.readFailed(new Error('late reset'))), [], 'already finishing, clean');
  s.flushed();
  assert.is(s.clean, true);
});

test.run();
