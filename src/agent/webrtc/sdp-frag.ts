import type { IceCandidate } from './peer.ts';

/**
 * Trickle ICE for WHEP (done as WHIP, RFC 9725, does it): the viewer's late candidates as an
 * `application/trickle-ice-sdpfrag` body (RFC 8840) — the offer's ICE credentials, then for each media
 * section that has candidates its `m=` line, its `a=mid` and the `a=candidate` lines. MediaMTX reads
 * exactly this and wants the mid numeric (it takes it as the m-line index), which it is in the offers
 * browsers make.
 */

interface MediaSection {
  mline: string;
  mid: string;
}

export interface OfferIce {
  ufrag: string;
  pwd: string;
  media: MediaSection[];
}

/** The parts of an offer a fragment needs; undefined if it has no ICE credentials or no media. */
export function offerIce(sdp: string): OfferIce | undefined {
  let ufrag: string | undefined;
  let pwd: string | undefined;
  const media: MediaSection[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) media.push({ mline: line.slice(2), mid: String(media.length) });
    else if (line.startsWith('a=mid:') && media.length > 0) (media.at(-1) as MediaSection).mid = line.slice(6).trim();
    // Session-level or per-section: browsers put the same credentials in every section (BUNDLE).
    else if (line.startsWith('a=ice-ufrag:')) ufrag ??= line.slice(12).trim();
    else if (line.startsWith('a=ice-pwd:')) pwd ??= line.slice(10).trim();
  }
  if (!ufrag || !pwd || media.length === 0) return undefined;
  return { ufrag, pwd, media };
}

/** The fragment for `candidates`, grouped by the media section each belongs to. */
export function sdpFragment(offer: OfferIce, candidates: readonly IceCandidate[]): string {
  let fragment = `a=ice-ufrag:${offer.ufrag}\r\na=ice-pwd:${offer.pwd}\r\n`;
  offer.media.forEach((section, index) => {
    const mine = candidates.filter((c) => (c.sdpMid != null ? c.sdpMid === section.mid : (c.sdpMLineIndex ?? 0) === index));
    if (mine.length === 0) return;
    fragment += `m=${section.mline}\r\na=mid:${section.mid}\r\n`;
    for (const c of mine) fragment += `a=${c.candidate.startsWith('candidate:') ? c.candidate : `candidate:${c.candidate}`}\r\n`;
  });
  return fragment;
}
