import assert from 'node:assert/strict';
import { test } from 'node:test';
import { microphoneVad, rms, silent, VadState, vadStep } from '../src/voice/vad';

function run(levels: number[], stepMs = 50): boolean[] {
  let state: VadState = silent;
  return levels.map((level, index) => {
    state = vadStep(state, level, index * stepMs, microphoneVad);
    return state.speaking;
  });
}

test('speech starts after two loud samples and outlasts a short pause', () => {
  const loud = 0.1;
  assert.deepEqual(run([loud, 0, loud, loud, 0, 0, loud]), [false, false, false, true, true, true, true]);
});

test('speech ends once the hangover has passed in silence', () => {
  const speaking = run([0.1, 0.1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(speaking[1], true);
  assert.equal(speaking[8], true, '350 ms after the last loud sample');
  assert.equal(speaking[9], false, '400 ms after it');
});

test('the level of a block is its RMS', () => {
  assert.equal(rms(new Float32Array([0.5, -0.5, 0.5, -0.5])), 0.5);
  assert.equal(rms(new Float32Array([])), 0);
});
