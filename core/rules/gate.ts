import { compileCondition, type CompiledCondition } from './condition';
import { InMemoryRuleMemory, type RuleMemory } from './memory';
import { readPath } from './paths';
import type { Rule, RuleSet } from './rule-set';
import { ruleSubject } from './subject';
import { formatWallTime, formatWindow, inWindow, localTimeZone, wallTime } from './time-window';
import { validateRuleSet } from './validate';

/** What the gate decided about one message, and why in words a person can check. */
export interface Decision {
  passed: boolean;
  /** The rule that decided, or null when none matched and the rule set's default did. */
  rule: string | null;
  reason: string;
}

export interface RuleGateOptions {
  /** The clock; tests and the API's "what if at this time" hand in their own. */
  now?: () => number;
  memory?: RuleMemory;
}

interface CompiledRule {
  rule: Rule;
  when: CompiledCondition;
}

const DEFAULT_DEDUPE_KEY = ['camera', 'type', 'zones'];

/**
 * Decides which events become alerts. A message is judged as a whole (`event.zones`, `motion.changedFraction`,
 * `payload.label`); the first rule whose condition matches decides, and a matching "pass" rule can still block for
 * its time windows, dedupe, cooldown and rate limit. Only passes are remembered: a blocked event starts no
 * cooldown and counts toward no limit.
 */
export class RuleGate {
  readonly ruleSet: RuleSet;
  private readonly rules: CompiledRule[];
  private readonly now: () => number;
  private readonly memory: RuleMemory;
  private readonly timeZone: string;

  constructor(ruleSet: unknown, options: RuleGateOptions = {}) {
    this.ruleSet = validateRuleSet(ruleSet);
    this.rules = this.ruleSet.rules.map((rule) => ({ rule, when: compileCondition(rule.when) }));
    this.now = options.now ?? Date.now;
    this.memory = options.memory ?? new InMemoryRuleMemory();
    this.timeZone = this.ruleSet.timeZone ?? localTimeZone();
  }

  /** Judges a message (`msg.event` is the event); pure apart from remembering passes. */
  decide(msg: Record<string, unknown>): Decision {
    const now = this.now();
    const subject = ruleSubject(msg);
    for (const { rule, when } of this.rules) {
      const result = when(subject);
      if (!result.matched) continue;
      const matched = `rule ${JSON.stringify(rule.name)}: ${result.explanation} matched`;
      if (rule.action === 'block') return { passed: false, rule: rule.name, reason: `${matched} → block` };
      const blocked = this.timeBlock(rule, now) ?? this.memoryBlock(rule, msg, now);
      if (blocked) return { passed: false, rule: rule.name, reason: `rule ${JSON.stringify(rule.name)} matched but blocked: ${blocked}` };
      this.remember(rule, msg, now);
      return { passed: true, rule: rule.name, reason: `${matched} → pass` };
    }
    return { passed: this.ruleSet.default === 'pass', rule: null, reason: `no rule matched → default ${this.ruleSet.default}` };
  }

  private timeBlock(rule: Rule, now: number): string | null {
    if (!rule.activeWindows && !rule.quietHours) return null;
    const at = wallTime(now, this.timeZone);
    const clock = `${this.timeZone} (now ${formatWallTime(at)})`;
    if (rule.activeWindows && !rule.activeWindows.some((w) => inWindow(w, at)))
      return `outside active hours ${rule.activeWindows.map(formatWindow).join(', ')} ${clock}`;
    const quiet = rule.quietHours?.find((w) => inWindow(w, at));
    return quiet ? `quiet hours ${formatWindow(quiet)} ${clock}` : null;
  }

  private memoryBlock(rule: Rule, msg: Record<string, unknown>, now: number): string | null {
    if (rule.dedupe) {
      const key = dedupeKey(rule, msg);
      const [last] = this.memory.times(memoryKey('dedupe', rule, key), now).slice(-1);
      if (last !== undefined) return `duplicate of an event ${seconds(now - last)} s ago (key ${key}, window ${rule.dedupe.seconds} s)`;
    }
    if (rule.cooldown) {
      const [last] = this.memory.times(cooldownKey(rule, msg), now).slice(-1);
      if (last !== undefined) {
        const left = Math.ceil((last + rule.cooldown.seconds * 1000 - now) / 1000);
        const scope = rule.cooldown.per === 'rule' ? `rule ${JSON.stringify(rule.name)}` : `camera ${cameraOf(msg)}`;
        return `cooldown for ${scope}, ${left} s left`;
      }
    }
    if (rule.rateLimit && this.memory.times(memoryKey('rate', rule), now).length >= rule.rateLimit.count) {
      return `rate limit ${rule.rateLimit.count} per ${rule.rateLimit.perSeconds} s reached`;
    }
    return null;
  }

  private remember(rule: Rule, msg: Record<string, unknown>, now: number): void {
    if (rule.dedupe) this.memory.record(memoryKey('dedupe', rule, dedupeKey(rule, msg)), now, rule.dedupe.seconds * 1000);
    if (rule.cooldown) this.memory.record(cooldownKey(rule, msg), now, rule.cooldown.seconds * 1000);
    if (rule.rateLimit) this.memory.record(memoryKey('rate', rule), now, rule.rateLimit.perSeconds * 1000, rule.rateLimit.count);
  }
}

const memoryKey = (kind: string, rule: Rule, key = '') => `${kind}\u0000${rule.name}\u0000${key}`;
const cooldownKey = (rule: Rule, msg: Record<string, unknown>) => memoryKey('cooldown', rule, rule.cooldown?.per === 'rule' ? '' : cameraOf(msg));
const seconds = (ms: number) => Math.round(ms / 1000);

/** The camera an event came from; a frame message without an event still names its camera in msg.frame. */
function cameraOf(msg: Record<string, unknown>): string {
  const camera = readPath(msg, 'event.camera') ?? readPath(msg, 'frame.camera');
  return typeof camera === 'string' ? camera : '(no camera)';
}

/** Dedupe key paths are read from the event ("camera", "zones"), or from the message when they say "msg.…". */
function dedupeKey(rule: Rule, msg: Record<string, unknown>): string {
  return (rule.dedupe?.key ?? DEFAULT_DEDUPE_KEY)
    .map((path) => {
      const value = path.startsWith('msg.') ? readPath(msg, path.slice(4)) : readPath(msg.event, path.replace(/^event\./, ''));
      if (value === undefined || value === null) return '';
      return Array.isArray(value) ? value.map(String).join(',') : typeof value === 'object' ? JSON.stringify(value) : String(value);
    })
    .join('|');
}
