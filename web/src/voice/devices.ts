// The microphones and speakers to choose from, as `enumerateDevices` lists them.

import type { Device } from '../state/voice';

/** Inputs and outputs with readable names (labels are empty until microphone permission is given). */
export function listDevices(devices: readonly Pick<MediaDeviceInfo, 'kind' | 'deviceId' | 'label'>[]): { inputs: Device[]; outputs: Device[] } {
  const list = (kind: MediaDeviceKind, fallback: string): Device[] =>
    devices
      // "default" and "communications" are the system's aliases of real devices: "System default" stands for them.
      .filter((device) => device.kind === kind && device.deviceId && device.deviceId !== 'default' && device.deviceId !== 'communications')
      .map((device, index) => ({ deviceId: device.deviceId, label: device.label || `${fallback} ${index + 1}` }));
  return { inputs: list('audioinput', 'Microphone'), outputs: list('audiooutput', 'Speaker') };
}

/** The audio constraints for the microphone: voice processing on, the chosen device if any. */
export function microphoneConstraints(inputId: string | null): MediaTrackConstraints {
  const constraints: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  if (inputId) constraints.deviceId = { exact: inputId };
  return constraints;
}
