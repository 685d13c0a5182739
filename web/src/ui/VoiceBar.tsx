// The room's voice: who is in it (speaking rings), and for this client Join voice / Leave voice,
// Mute / Unmute, Deafen / Undeafen, the devices and each person's volume.

import { useMemo, useState } from 'react';
import type { VoiceParticipant } from '../protocol';
import { isSpeaking, volumeOf, voiceParticipants } from '../state/voice';
import { Avatar } from './Avatar';
import { useAppState, useClient } from './context';
import { Icon } from './icons';

export function VoiceBar({ roomId }: { roomId: string }) {
  const client = useClient();
  const voice = useAppState((state) => state.voice);
  const selfId = useAppState((state) => state.session.user?.id ?? null);
  const otherRoomName = useAppState((state) =>
    state.voice.local && state.voice.local.roomId !== roomId ? state.rooms.mine[state.voice.local.roomId]?.name ?? null : null,
  );
  const participants = useMemo(() => voiceParticipants(voice, roomId), [voice, roomId]);
  const [showSettings, setShowSettings] = useState(false);
  const local = voice.local?.roomId === roomId ? voice.local : null;
  const connected = local?.status === 'connected';

  const join = () => {
    client.notifier.unlock();
    void client.voice.join(roomId);
  };

  return (
    <section className="voice-bar" aria-label="Voice" data-active={local ? 'true' : 'false'}>
      <div className="voice-people">
        <Icon name="speaker" />
        {participants.length === 0 ? (
          <span className="voice-empty">{local ? 'Joining voice…' : 'Nobody is in voice.'}</span>
        ) : (
          <ul className="voice-list" aria-label="In voice">
            {participants.map((participant) => (
              <VoiceMember key={participant.sessionId} participant={participant} speaking={isSpeaking(voice, participant)} self={participant.userId === selfId} />
            ))}
          </ul>
        )}
      </div>
      <div className="voice-controls">
        {!local && (
          <button type="button" className="button primary small" onClick={join}>
            <Icon name="headphones" />
            Join voice
          </button>
        )}
        {!local && otherRoomName && <small className="voice-elsewhere">You are in voice in {otherRoomName}.</small>}
        {local && (
          <>
            <button type="button" className="button small" disabled={!connected} onClick={() => client.voice.setMuted(!local.muted)} data-on={local.muted ? 'true' : undefined}>
              <Icon name={local.muted ? 'micOff' : 'mic'} />
              {local.muted ? 'Unmute' : 'Mute'}
            </button>
            <button type="button" className="button small" disabled={!connected} onClick={() => client.voice.setDeafened(!local.deafened)} data-on={local.deafened ? 'true' : undefined}>
              <Icon name={local.deafened ? 'headphonesOff' : 'headphones'} />
              {local.deafened ? 'Undeafen' : 'Deafen'}
            </button>
            <button
              type="button"
              className="icon-button"
              aria-label="Voice settings"
              aria-expanded={showSettings}
              aria-controls="voice-settings"
              onClick={() => {
                if (!showSettings) void client.voice.refreshDevices();
                setShowSettings(!showSettings);
              }}
            >
              <Icon name="settings" />
            </button>
            <button type="button" className="button small danger" onClick={() => void client.voice.leave()}>
              <Icon name="phoneOff" />
              Leave voice
            </button>
          </>
        )}
      </div>
      {local?.microphoneProblem && <p className="voice-problem">{local.microphoneProblem}</p>}
      {local && showSettings && <VoiceSettings roomId={roomId} participants={participants} selfId={selfId} />}
    </section>
  );
}

function VoiceMember({ participant, speaking, self }: { participant: VoiceParticipant; speaking: boolean; self: boolean }) {
  const states = [speaking ? 'speaking' : null, participant.muted ? 'muted' : null, participant.deafened ? 'deafened' : null].filter(Boolean);
  return (
    <li className="voice-member" data-speaking={speaking ? 'true' : 'false'} data-user-id={participant.userId}>
      <Avatar userId={participant.userId} name={participant.username || '?'} speaking={speaking} size="small" />
      <span className="voice-member-name">
        {participant.username}
        {self && ' (you)'}
      </span>
      {participant.muted && <Icon name="micOff" />}
      {participant.deafened && <Icon name="headphonesOff" />}
      {states.length > 0 && <span className="visually-hidden">, {states.join(', ')}</span>}
    </li>
  );
}

function VoiceSettings({ roomId, participants, selfId }: { roomId: string; participants: VoiceParticipant[]; selfId: string | null }) {
  const client = useClient();
  const voice = useAppState((state) => state.voice);
  const others = participants.filter((participant) => participant.userId !== selfId);
  return (
    <div id="voice-settings" className="voice-settings" data-room={roomId}>
      <label className="field">
        <span>Microphone</span>
        <select value={voice.inputId ?? ''} onChange={(e) => void client.voice.setInput(e.target.value || null)}>
          <option value="">System default</option>
          {voice.inputs.map((device) => (
            <option key={device.deviceId} value={device.deviceId}>
              {device.label}
            </option>
          ))}
        </select>
      </label>
      {client.voice.canChooseOutput && (
        <label className="field">
          <span>Speaker</span>
          <select value={voice.outputId ?? ''} onChange={(e) => void client.voice.setOutput(e.target.value || null)}>
            <option value="">System default</option>
            {voice.outputs.map((device) => (
              <option key={device.deviceId} value={device.deviceId}>
                {device.label}
              </option>
            ))}
          </select>
        </label>
      )}
      {others.length > 0 && (
        <fieldset className="fieldset">
          <legend>Volume</legend>
          {others.map((participant) => (
            <label key={participant.sessionId} className="volume">
              <span>{participant.username}</span>
              <input
                type="range"
                min={0}
                max={100}
                step={5}
                aria-label={`Volume for ${participant.username}`}
                value={Math.round(volumeOf(voice, participant.userId) * 100)}
                onChange={(e) => client.voice.setVolume(participant.userId, Number(e.target.value) / 100)}
              />
              <output>{Math.round(volumeOf(voice, participant.userId) * 100)}%</output>
            </label>
          ))}
        </fieldset>
      )}
    </div>
  );
}
