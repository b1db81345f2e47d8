import { mayAccess } from '../../auth/access.ts';
import { atLeast } from '../../auth/roles.ts';
import type { Applied, ChangeSource, DeviceResult, SchedulePlan } from '../../contract.ts';
import { errorText } from '../../log.ts';
import type { RoomContext } from '../../ports.ts';
import { latestDue, runAfter } from '../../schedule/times.ts';
import type { Actor } from '../../state/model.ts';
import type { ApplyOptions } from './changes.ts';

/**
 * The schedules that name this device, each stored with the time of its last run here, and run by
 * this room's own alarm: no single object does every device's work at fire time. A run is recorded in
 * the same transaction as the change it makes, so an alarm that fires again (a retry after a crash, a
 * restart) finds it done and does not apply it twice.
 */

interface Stored extends SchedulePlan {
  /** The scheduled time (ms) of the last run applied here. */
  last?: number;
}

/** What the schedules need of their device room. */
export interface ScheduleHost {
  readonly ctx: RoomContext;
  readonly deviceId: string;
  applyChanges(actor: Actor, input: Record<string, unknown>, source: ChangeSource, options: ApplyOptions): Applied | null;
  /** The room's one alarm is set to the earliest thing it waits for. */
  rearm(): void;
}

const key = (id: string) => `sched:${id}`;

export class DeviceSchedules {
  /** Each enabled schedule's next due time (ms), worked out from storage when first needed. */
  private due: Map<string, number> | undefined;
  private running = false;

  constructor(private readonly host: ScheduleHost) {}

  private get services() {
    return this.host.ctx.services;
  }

  set(plan: SchedulePlan): void {
    const current = this.host.ctx.storage.get<Stored>(key(plan.id));
    // A run already applied stays applied: an unchanged schedule sent again must not run it twice.
    const stored: Stored = {
      ...plan,
      ...(current?.last !== undefined && current.since === plan.since ? { last: current.last } : {}),
    };
    this.host.ctx.storage.put(key(plan.id), stored);
    this.due = undefined;
    this.host.rearm();
  }

  remove(id: string): void {
    this.host.ctx.storage.delete(key(id));
    this.due = undefined;
    this.host.rearm();
  }

  /** When the earliest run is due (ms), or undefined when none is. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const at of this.dueTimes().values()) if (next === undefined || at < next) next = at;
    return next;
  }

  /** Runs every schedule that is due: its latest due run only, once. */
  async runDue(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const now = this.services.clock.now();
      for (const [id, at] of this.dueTimes()) if (at <= now) await this.run(id, now);
    } finally {
      this.running = false;
      this.due = undefined;
    }
  }

  private dueTimes(): Map<string, number> {
    if (this.due) return this.due;
    this.due = new Map();
    for (const plan of this.host.ctx.storage.list<Stored>('sched:').values()) {
      if (!plan.enabled) continue;
      const next = runAfter(plan, Math.max(plan.since, plan.last ?? 0));
      if (next !== null) this.due.set(plan.id, next);
    }
    return this.due;
  }

  private async run(id: string, now: number): Promise<void> {
    const { rooms, log } = this.services;
    const planned = this.host.ctx.storage.get<Stored>(key(id));
    if (!planned?.enabled) return;
    const at = latestDue(planned, Math.max(planned.since, planned.last ?? 0), now);
    if (at === null) return;
    // Asked before the run, whose change is then made without awaiting anything: the creator's rights
    // now (a demoted or removed creator's schedule does less, or nothing), and the preset's values now.
    const [creator, preset] = await Promise.all([
      rooms.user(planned.created_by).profile(),
      planned.preset_id !== undefined ? rooms.presets().get(planned.preset_id) : null,
    ]);
    const plan = this.host.ctx.storage.get<Stored>(key(id));
    // Changed, removed or already run while we asked: the stored plan decides.
    if (!plan?.enabled || plan.since !== planned.since || (plan.last ?? 0) >= at) return;
    const done: Stored = { ...plan, last: at, ...(plan.at !== undefined ? { enabled: false } : {}) };
    const values = plan.values ?? preset?.values;
    let result: DeviceResult;
    if (!creator || !atLeast(creator.role, 'operator') || !mayAccess(creator, this.host.deviceId)) {
      this.host.ctx.storage.put(key(id), done);
      result = { ok: false, error: `${plan.created_by} may no longer change this device` };
    } else if (!values) {
      this.host.ctx.storage.put(key(id), done);
      result = { ok: false, error: 'Preset not found' };
    } else {
      const actor = { kind: 'user', username: creator.username, role: creator.role } as const;
      const source = { via: 'schedule', by: `schedule:${id}` } as const;
      const applied = this.host.applyChanges(actor, values, source, { with: { [key(id)]: done } });
      // Unregistered meanwhile: nothing was written, but the run must not come due again.
      if (!applied) this.host.ctx.storage.put(key(id), done);
      result = !applied
        ? { ok: false, error: 'Device not found' }
        : applied.ok
          ? { ok: true, seq: applied.seq, applied: applied.applied }
          : { ok: false, ...applied.error };
    }
    const when = new Date(at).toISOString();
    log.info('schedule ran', { schedule: id, device: this.host.deviceId, at: when, ok: result.ok });
    this.services.metrics.scheduleRuns[result.ok ? 'ok' : 'failed']++;
    rooms
      .schedules()
      .recordRun(id, when, this.host.deviceId, result)
      .catch((error) => log.error('schedule run not recorded', { schedule: id, error: errorText(error) }));
  }
}
