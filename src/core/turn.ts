import { base64, hmac, utf8 } from './crypto.ts';

/**
 * ICE servers for a watch session. TURN credentials follow the REST-API scheme coturn checks with
 * `use-auth-secret`: username = "<unix expiry>:<label>", credential = base64(HMAC-SHA1(secret, username)).
 * The number is the expiry, not the issue time (coturn src/apps/relay/userdb.c).
 */

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
  credentialType?: 'password';
}

export interface IceConfig {
  stunUrls: string[];
  turnUrls: string[];
  turnSecret: string | undefined;
  turnTtlS: number;
}

export async function iceServers(config: IceConfig, label: string, nowS: number): Promise<IceServer[]> {
  const servers: IceServer[] = config.stunUrls.map((urls) => ({ urls }));
  // A TURN entry without credentials makes RTCPeerConnection throw, so TURN needs TURN_SECRET.
  if (config.turnUrls.length > 0 && config.turnSecret) {
    const username = `${nowS + config.turnTtlS}:${label}`;
    const credential = base64(await hmac('SHA-1', utf8(config.turnSecret), utf8(username)));
    servers.push({ urls: config.turnUrls, username, credential, credentialType: 'password' });
  }
  return servers;
}
