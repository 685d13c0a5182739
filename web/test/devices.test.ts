import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listDevices, microphoneConstraints } from '../src/voice/devices';

test('devices are listed by kind, aliases left to "System default", unnamed ones numbered', () => {
  const { inputs, outputs } = listDevices([
    { kind: 'audioinput', deviceId: 'default', label: 'Default' },
    { kind: 'audioinput', deviceId: 'mic-a', label: 'USB microphone' },
    { kind: 'audioinput', deviceId: 'mic-b', label: '' },
    { kind: 'audiooutput', deviceId: 'communications', label: 'Communications' },
    { kind: 'audiooutput', deviceId: 'spk-a', label: 'Headphones' },
    { kind: 'videoinput', deviceId: 'cam', label: 'Camera' },
  ]);
  assert.deepEqual(inputs, [
    { deviceId: 'mic-a', label: 'USB microphone' },
    { deviceId: 'mic-b', label: 'Microphone 2' },
  ]);
  assert.deepEqual(outputs, [{ deviceId: 'spk-a', label: 'Headphones' }]);
});

test('the microphone is opened with voice processing, on the chosen device only when one is chosen', () => {
  assert.deepEqual(microphoneConstraints(null), { echoCancellation: true, noiseSuppression: true, autoGainControl: true });
  assert.deepEqual(microphoneConstraints('mic-a').deviceId, { exact: 'mic-a' });
});
