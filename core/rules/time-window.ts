import { DAYS, type Day, type TimeWindow } from './rule-set';

/** The wall clock in a time zone at one instant: what a person there reads on the kitchen clock. */
export interface WallTime {
  day: Day;
  /** Minutes since local midnight, 0-1439. */
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, Day> = { Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat', Sun: 'sun' };

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', weekday: 'short', hour: '2-digit', minute: '2-digit' });
    formatters.set(timeZone, format);
  }
  return format;
}

export function isTimeZone(name: string): boolean {
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

/** The zone a rule set without `timeZone` uses: the one the process runs in (TZ, or the system's). */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * Intl does the zone arithmetic, so daylight saving is right by construction: on a spring-forward night the wall
 * clock jumps from 01:59 to 03:00 and on a fall-back night it reads 01:30 twice, an hour apart.
 */
export function wallTime(instant: number, timeZone: string): WallTime {
  let day: Day = 'mon';
  let hour = 0;
  let minute = 0;
  for (const part of formatter(timeZone).formatToParts(new Date(instant))) {
    if (part.type === 'weekday') day = WEEKDAYS[part.value] ?? day;
    else if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minutes: hour * 60 + minute };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const previousDay = (day: Day): Day => DAYS[(DAYS.indexOf(day) + 6) % 7];

/**
 * Whether a wall time falls inside a window. A window that crosses midnight (22:00–06:00) belongs to the day it
 * starts on, so "fri 22:00–06:00" covers Saturday 03:00. From equal to to means the whole day from that time.
 */
export function inWindow(window: TimeWindow, at: WallTime): boolean {
  const from = toMinutes(window.from);
  const to = toMinutes(window.to);
  const onDay = (day: Day) => !window.days || window.days.includes(day);
  if (from < to) return onDay(at.day) && at.minutes >= from && at.minutes < to;
  if (at.minutes >= from) return onDay(at.day);
  return at.minutes < to || from === to ? onDay(previousDay(at.day)) : false;
}

export function formatWindow(window: TimeWindow): string {
  return `${window.days ? `${window.days.join(', ')} ` : ''}${window.from}–${window.to}`;
}

export function formatWallTime(at: WallTime): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(at.minutes / 60))}:${pad(at.minutes % 60)}`;
}
