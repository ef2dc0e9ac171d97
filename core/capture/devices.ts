import { createHash, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { assertCameraId } from '../ids';

/** The MQTT login of one edge camera, from its node's credentials block. */
export interface DeviceCredentials {
  cameraId: string;
  username: string;
  password: string;
}

interface Registration {
  cameraId: string;
  username: string;
  passwordDigest: Buffer;
}

function digest(password: string): Buffer {
  return createHash('sha256').update(password, 'utf8').digest();
}

const NO_DEVICE = Buffer.alloc(32);

/**
 * The edge cameras that may sign in to the embedded broker, each with a login of its own that can publish only under
 * its camera's topics. Emits `removed` (username) when a device is unregistered, so the broker can drop its sessions.
 */
export class DeviceRegistry extends EventEmitter {
  private readonly devices = new Map<string, Registration>();

  /** Adds a device; the returned function removes it again (and only it, should the name have been re-registered). */
  register(device: DeviceCredentials): () => void {
    const cameraId = assertCameraId(device.cameraId);
    if (typeof device.username !== 'string' || device.username === '')
      throw new Error(`camera ${cameraId}: the device username is empty: expected the name the edge device signs in with`);
    if (typeof device.password !== 'string' || device.password === '')
      throw new Error(`camera ${cameraId}: the device password is empty: set one in the camera's credentials`);
    const existing = this.devices.get(device.username);
    if (existing !== undefined) {
      throw new Error(`device username "${device.username}" is already used by camera ${existing.cameraId}: each edge camera needs its own username`);
    }
    const registration: Registration = { cameraId, username: device.username, passwordDigest: digest(device.password) };
    this.devices.set(device.username, registration);
    return () => {
      if (this.devices.get(registration.username) !== registration) return;
      this.devices.delete(registration.username);
      this.emit('removed', registration.username);
    };
  }

  /**
   * The camera id the login belongs to, or null. Both sides are hashed to one length first, so the comparison takes
   * the same time whatever the password's length or how much of it is right.
   */
  verify(username: string, password: string | Buffer): string | null {
    const found = this.devices.get(username);
    const offered = typeof password === 'string' ? digest(password) : createHash('sha256').update(password).digest();
    // Unknown names do the same work, so timing does not tell which device names exist.
    const matches = timingSafeEqual(offered, found?.passwordDigest ?? NO_DEVICE);
    return found !== undefined && matches ? found.cameraId : null;
  }

  /** The camera the username currently belongs to, or null once unregistered. */
  cameraOf(username: string): string | null {
    return this.devices.get(username)?.cameraId ?? null;
  }
}
