import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cframe, decodeSync, decodeStream } from './_helpers.js';

test('smoke: masked text frame', () => {
  const r = decodeSync(cframe({ opcode: 1, payload: 'hello' }));
  assert.equal(r.error, undefined);
  assert.equal(r.messages, [{ type: 'text', data: 'hello' }]);
});

test('smoke: stream', async () => {
  const r = await decodeStream([cframe({ opcode: 1, payload: 'hello' }), cframe({ opcode: 2, payload: 'x' })]);
  assert.equal(r.error, undefined);
  assert.equal(r.messages.length, 2);
});

test.run();
