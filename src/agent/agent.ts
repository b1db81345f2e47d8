import { settingsToChanges, stateToSettings } from '../core/camera/codec.ts';
import type { Logger } from '../core/log.ts';
import { defaultState, type State } from '../core/state/keys.ts';
import { type Applier, ApplyQueue, type ApplyResult, commandApplier, simulatedApplier, streamOnlyApplier } from './apply.ts';
import type { Channel, ChannelEvents, Reply } from './channel.ts';
import { jsonChannel } from './json-channel.ts';
import type { Options } from './options.ts';
import { protobufChannel } from './protobuf-channel.ts';
import { type SignalingLink, signalingChannel } from './signaling-channel.ts';
import { loadState, type Remembered, sameState, saveState } from './state-file.ts';
import { commandStream, type StreamRunner, StreamSupervisor, simulatedStream } from './stream.ts';
import type { PeerBackend } from './webrtc/peer.ts';
import { testPatternCommand } from './webrtc/test-pattern.ts';
import { type WatchEvents, Watches, type WatchSignals } from './webrtc/watches.ts';

/**
 * The agent: the server's desired state in, `--apply` runs and the stream out, replies back. It owns
 * three facts and keeps them apart: what the server wants (`desired`), what was last applied
 * (`applied`, also in the state file) and whether streaming is wanted.
 */

export class Agent {
  private desired: State;
  private applied: State | null;
  private streamWanted: boolean;
  private lastApply: ApplyResult | undefined;
  private readonly applier: Applier;
  private readonly queue: ApplyQueue;
  private readonly stream: StreamSupervisor | undefined;
  private readonly channel: Channel;
  /** With --webrtc: the watch sessions, and (on protobuf) the /ws/device link that carries them. */
  private readonly watches: Watches | undefined;
  private readonly signaling: SignalingLink | undefined;

  constructor(
    private readonly options: Options,
    private readonly log: Logger,
    private readonly webrtc?: PeerBackend,
  ) {
    const remembered = this.remembered();
    this.applied = remembered.applied;
    this.streamWanted = remembered.streamWanted;
    // Until the server says otherwise: what was last applied, else the defaults (so a first start with
    // the server out of reach still streams with sensible settings).
    this.desired = { ...(this.applied ?? initialState(options.protocol)) };

    this.applier = options.apply
      ? commandApplier(options.apply, log)
      : options.simulate
        ? simulatedApplier(log)
        : streamOnlyApplier();
    this.queue = new ApplyQueue(
      this.applier,
      () => this.desired,
      (result, state, ids, superseded) => this.applyDone(result, state, ids, superseded),
    );

    const streamEnv = webrtc?.streamEnv() ?? {};
    const runner: StreamRunner | undefined = options.stream
      ? commandStream(options.stream, streamEnv)
      : options.simulate
        ? webrtc?.mode === 'rtp'
          ? commandStream(testPatternCommand(options.webrtc.codec), streamEnv)
          : simulatedStream(log)
        : undefined;
    this.stream = runner ? new StreamSupervisor(runner, { ...this.desired }, log) : undefined;

    const events: ChannelEvents = {
      snapshot: (state) => this.onSnapshot(state),
      changes: (changes, requestId) => this.onChanges(changes, requestId),
      command: (name, requestId) => {
        this.onCommand(name, requestId).catch((error) => {
          this.log.error('command failed', { command: name, error: String(error) });
          this.channel.reply({ requestId, success: false, message: `${name} failed: ${String(error)}` });
        });
      },
    };
    const common = { server: options.server, ca: options.ca?.pem, device: options.device, key: options.key, log, events };
    if (options.protocol === 'json') {
      const channel = jsonChannel({ ...common, watches: webrtc ? forward(() => this.watches) : undefined });
      this.channel = channel;
      this.watches = webrtc && this.newWatches(webrtc, channel.signals);
    } else {
      this.channel = protobufChannel({ ...common, current: () => this.desired });
      if (webrtc) {
        this.signaling = signalingChannel({ ...common, watches: forward(() => this.watches) });
        this.watches = this.newWatches(webrtc, this.signaling.signals);
      }
    }
  }

  private newWatches(backend: PeerBackend, signals: WatchSignals): Watches {
    return new Watches(backend, signals, this.log, {
      maxWatchers: this.options.webrtc.maxWatchers,
      beforeWatch: () => this.streamForWatch(),
    });
  }

  start(): void {
    this.log.info('agent starting', {
      device: this.options.device,
      server: this.options.server.origin,
      ca: this.options.ca?.file,
      protocol: this.options.protocol,
      apply: this.options.apply ? 'command' : this.options.simulate ? 'simulated' : 'none',
      stream: this.options.stream ? 'command' : this.options.simulate ? 'simulated' : 'none',
      state_file: this.options.stateFile,
      remembered: this.applied ? 'yes' : 'no',
      webrtc: this.options.webrtc.mode,
      ...this.webrtc?.describe(),
    });
    if (this.options.ca && !['https:', 'wss:'].includes(this.options.server.protocol)) {
      this.log.warn('--ca is not used: --server is plain http://, so no certificate is checked', { ca: this.options.ca.file });
    }
    if (this.webrtc?.mode === 'rtp' && !this.stream) {
      this.log.warn('--webrtc rtp without --stream: watches get video only if something else sends RTP', this.webrtc.streamEnv());
    }
    if (this.stream && this.streamWanted) void this.stream.start();
    else if (this.stream) this.log.info('stream not started: it was stopped by a command before the last restart');
    this.channel.start();
    this.signaling?.start();
  }

  /** Clean shutdown: end the watches, close the sockets, stop the stream and any apply run. */
  async stop(): Promise<void> {
    this.watches?.closeAll();
    await Promise.all([
      this.channel.stop(),
      this.signaling?.stop(),
      this.stream?.shutdown(),
      this.applier.stop(),
      this.webrtc?.close(),
    ]);
  }

  /** A watch wants video: a stream stopped by a command starts again (and stays wanted). */
  private streamForWatch(): void {
    if (!this.stream || this.stream.status().wanted) return;
    this.log.info('a watch starts the stopped stream');
    this.streamWanted = true;
    this.remember();
    void this.stream.start();
  }

  // — the server's wishes —

  private onSnapshot(state: State): void {
    this.desired = { ...state };
    if (!this.queue.busy && sameState(this.applied, state)) {
      this.log.info('settings unchanged since they were last applied: not re-applying');
      return;
    }
    this.queue.request(undefined);
  }

  private onChanges(changes: State, requestId: string | undefined): void {
    // An UPDATE_SETTINGS whose fields this channel does not map: nothing to run.
    if (Object.keys(changes).length === 0) {
      if (requestId) this.channel.reply({ requestId, success: true, message: 'nothing to change', state: this.settledState() });
      return;
    }
    this.desired = { ...this.desired, ...changes };
    this.queue.request(requestId);
  }

  private applyDone(result: ApplyResult, state: State, requestIds: (string | undefined)[], superseded: boolean): void {
    this.lastApply = result;
    if (result.success) {
      this.applied = state;
      this.remember();
      void this.stream?.update(state);
    }
    // A newer state is already queued: reporting this one would briefly undo it on the server.
    const reply: Reply = {
      success: result.success,
      message: result.message,
      state: result.success && !superseded ? state : undefined,
    };
    const ids = [...new Set(requestIds.filter((id): id is string => id !== undefined))];
    for (const requestId of ids) this.channel.reply({ ...reply, requestId });
    // A change nobody waits for (the snapshot, a change from another protocol) still gets reported.
    if (ids.length === 0) this.channel.reply(reply);
  }

  // — commands —

  private async onCommand(name: string, requestId: string | undefined): Promise<void> {
    this.log.info('command received', { command: name, request: requestId });
    const reply = (success: boolean, message: string) => {
      this.log[success ? 'info' : 'warn']('command answered', { command: name, success, message });
      this.channel.reply({ requestId, success, message, state: this.settledState() });
    };
    switch (name) {
      case 'start_stream':
      case 'stop_stream':
      case 'restart_camera': {
        if (!this.stream) return reply(false, 'no --stream command configured on this device');
        const message =
          name === 'start_stream'
            ? await this.stream.start()
            : name === 'stop_stream'
              ? await this.stream.stop()
              : await this.stream.restart();
        this.streamWanted = name !== 'stop_stream';
        this.remember();
        return reply(true, message);
      }
      case 'get_status':
        return reply(true, this.statusText());
      case 'snap':
        if (this.options.simulate) return reply(true, 'simulated: snapshot taken');
        return reply(false, 'snap is not supported by this agent (no snapshot command)');
      default:
        return reply(false, `unknown command "${name}"`);
    }
  }

  private statusText(): string {
    const parts: string[] = [];
    const stream = this.stream?.status();
    if (!stream) parts.push('no stream configured');
    else if (stream.running) parts.push(`stream running${stream.pid === undefined ? ' (simulated)' : ` (pid ${stream.pid})`}`);
    else parts.push(stream.wanted ? 'stream not running (restarting)' : 'stream stopped');
    if (this.queue.busy) parts.push('applying settings');
    else if (this.lastApply && !this.lastApply.success) parts.push(`last apply failed: ${this.lastApply.message}`);
    else if (sameState(this.applied, this.desired)) parts.push('settings applied');
    else parts.push('settings not applied yet');
    if (this.watches && this.webrtc) parts.push(`${this.watches.count} watching; ${this.webrtc.status()}`);
    const s = stateToSettings(this.desired);
    if (s.width) parts.push(`${s.width}x${s.height} ${s.fps ?? '?'} fps ${s.bitrate ?? '?'} ${s.encoding ?? ''}`.trim());
    return parts.join('; ');
  }

  /** The applied state, only when it is also what the server wants and nothing is pending. */
  private settledState(): State | undefined {
    return !this.queue.busy && this.applied && sameState(this.applied, this.desired) ? this.applied : undefined;
  }

  // — the state file —

  private remembered(): Remembered {
    const loaded = loadState(this.options.stateFile);
    if (!loaded.ok) {
      this.log.warn('state file unreadable, starting fresh', { path: this.options.stateFile, error: loaded.error });
      return { applied: null, streamWanted: true };
    }
    return loaded.remembered;
  }

  private remember(): void {
    try {
      saveState(this.options.stateFile, { applied: this.applied, streamWanted: this.streamWanted });
    } catch (error) {
      // A read-only SD card must not stop the camera: we only lose the quiet restart.
      this.log.error('could not write the state file', { path: this.options.stateFile, error: String(error) });
    }
  }
}

/** The defaults of the state schema, limited to the keys the protocol carries. */
function initialState(protocol: Options['protocol']): State {
  const all = defaultState();
  return protocol === 'json' ? all : (settingsToChanges(stateToSettings(all), {}) as State);
}

/** Watch events for a channel made before the Watches they go to (which need the channel's signals). */
function forward(watches: () => Watches | undefined): WatchEvents {
  return {
    request: (request) => watches()?.request(request),
    offer: (session, sdp) => watches()?.offer(session, sdp),
    candidate: (session, candidate) => watches()?.candidate(session, candidate),
    ended: (session, reason) => watches()?.ended(session, reason),
    offline: () => watches()?.offline(),
  };
}
