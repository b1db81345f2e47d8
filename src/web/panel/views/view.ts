import type { EdgecamViewer } from '../../../client/index.ts';
import type { LiveDevices } from '../live.ts';
import type { Session } from '../session.ts';

/** What every view gets, and what it gives back: its element, and a cleanup for when it is replaced. */
export interface ViewContext {
  viewer: EdgecamViewer;
  session: Session;
  /** Subscribe through this, not the viewer: it keeps a device another view still shows subscribed. */
  live: LiveDevices;
}

export interface View {
  el: HTMLElement;
  dispose(): void;
}
