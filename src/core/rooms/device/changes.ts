import type { Applied, ChangeSource } from '../../contract.ts';
import type { Metrics } from '../../metrics/metrics.ts';
import type { RoomStorage } from '../../ports.ts';
import { type Actor, validateChanges } from '../../state/model.ts';
import type { StateStore } from '../../state/store.ts';
import type { ChangeChannel } from './change-channel.ts';

/**
 * Every change to a device's state, from any protocol, goes through `apply`: the whole batch is
 * validated, then stored, then published to each channel in turn — the order every protocol relies on
 * (an acknowledged change is already persisted). Triggers (one-shot actions) are not state: they go to
 * the device only. Each change is kept in the log with who made it and how (`source`).
 */
export class Changes {
  constructor(
    private readonly storage: RoomStorage,
    private readonly store: StateStore,
    private readonly channels: readonly ChangeChannel[],
    private readonly trigger: (name: string) => void,
    private readonly metrics: Metrics,
  ) {}

  apply(actor: Actor, input: Record<string, unknown>, source: ChangeSource, options: ApplyOptions = {}): Applied {
    const checked = validateChanges(actor, input);
    if (!checked.ok) {
      if (options.with) this.storage.putMany(options.with);
      return checked;
    }
    const { triggers } = checked;
    let changes = checked.changes;
    // A device repeats its whole applied state in every report: only what differs is a change.
    if (actor.kind === 'device')
      changes = Object.fromEntries(Object.entries(changes).filter(([k, v]) => this.store.state[k] !== v));
    let seq = this.store.seq;
    if (Object.keys(changes).length > 0) {
      seq = this.store.apply(changes, { by: source.by ?? byOf(actor), via: source.via, with: options.with });
      this.metrics.stateChanges[source.via]++;
      for (const channel of this.channels) channel.publish(changes, seq, actor, options.requestId);
    } else if (options.with) this.storage.putMany(options.with);
    for (const name of triggers) this.trigger(name);
    const applied: Record<string, unknown> = { ...changes };
    for (const name of triggers) applied[name] = true;
    return { ok: true, applied, seq };
  }
}

export interface ApplyOptions {
  /** The /ws/camera/ request this answers. */
  requestId?: string | undefined;
  /** Keys written in the change's own transaction, or alone when nothing changed (a schedule's run). */
  with?: Record<string, unknown> | undefined;
}

/** Who made a change, for the history. */
function byOf(actor: Actor): string {
  return actor.kind === 'user' ? actor.username : actor.kind;
}
