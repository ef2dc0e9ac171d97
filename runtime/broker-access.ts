import { cameraOfMessage, parseCameraTopic, publishersOf, TOPIC_PREFIX, topics } from '../core/topics';
import { mayUseCamera, roleAtLeast, type Principal } from './auth/roles';

/** Who a connection signed in as: a user (password or API key), or an edge camera's device login. */
export type Session = { kind: 'user'; principal: Principal } | { kind: 'device'; username: string; camera: string };

/**
 * Why a session may not publish the topic, or null when it may. `deviceCamera` is the camera the device's username
 * belongs to now (null once unregistered), so a device removed since it connected publishes nothing.
 * In-process publishes (aedes' client null: Glimpser itself) never come here.
 */
export function publishRefusal(session: Session | undefined, topic: string, deviceCamera: string | null): string | null {
  if (session === undefined) return 'not signed in';
  const publishers = publishersOf(topic);
  const camera = parseCameraTopic(topic)?.camera;
  if (publishers === 'runtime') return 'only Glimpser publishes this topic';
  if (session.kind === 'device') {
    if (publishers !== 'device' || camera !== session.camera || deviceCamera !== session.camera)
      return 'a device publishes only its own camera’s state, frames and reports';
    return null;
  }
  const { principal } = session;
  if (publishers === 'device') return 'only Glimpser and the camera’s own edge device publish its state, frames and events';
  if (camera !== undefined && !mayUseCamera(principal, camera)) return `camera ${camera} is not in this user’s camera list`;
  if (publishers === 'operator') return roleAtLeast(principal.role, 'operator') ? null : `commands need the operator role; this is a ${principal.role}`;
  return principal.role === 'admin' ? null : `publishing here needs the admin role; this is a ${principal.role}`;
}

/** Topics with no camera's data in them, open to every signed-in user. */
const SHARED_TOPICS = new Set<string>([topics.available]);
/** Topics whose messages each name one camera: a camera-limited user gets only its cameras' (authorizeForward). */
const PER_CAMERA_MESSAGE_TOPICS = new Set<string>([topics.events, topics.alerts]);

/**
 * Why a session may not subscribe to the filter, or null when it may. A user with a camera list may subscribe to
 * its cameras' topics, to `glimpser/available`, and to `glimpser/events` and `glimpser/alerts` (filtered per message);
 * any filter that could match another camera's topics or `glimpser/summaries` (a brief over all cameras) is refused.
 * Filters outside `glimpser/` carry none of Glimpser's data and are left alone.
 */
export function subscribeRefusal(session: Session | undefined, filter: string, deviceCamera: string | null): string | null {
  if (session === undefined) return 'not signed in';
  const camera = parseCameraTopic(filter)?.camera;
  if (session.kind === 'device') {
    return camera === session.camera && deviceCamera === session.camera ? null : 'a device subscribes only to its own camera’s topics';
  }
  const { principal } = session;
  if (principal.cameras === null) return null;
  if (camera !== undefined) return mayUseCamera(principal, camera) ? null : `camera ${camera} is not in this user’s camera list`;
  if (SHARED_TOPICS.has(filter) || PER_CAMERA_MESSAGE_TOPICS.has(filter)) return null;
  const first = filter.split('/')[0];
  if (first !== TOPIC_PREFIX && first !== '+' && first !== '#') return null;
  return 'this filter reaches cameras outside this user’s camera list';
}

/**
 * Whether a message goes out to a session. Subscriptions already keep camera-limited users to their cameras; this
 * keeps them to their cameras' events and alerts too, and is a second check on camera topics.
 */
export function mayForward(session: Session | undefined, topic: string, payload: Buffer): boolean {
  if (session?.kind !== 'user' || session.principal.cameras === null) return true;
  const camera = parseCameraTopic(topic)?.camera;
  if (camera !== undefined) return mayUseCamera(session.principal, camera);
  if (!PER_CAMERA_MESSAGE_TOPICS.has(topic)) return true;
  const about = cameraOfMessage(topic, payload);
  return about !== null && mayUseCamera(session.principal, about);
}
