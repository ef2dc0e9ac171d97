import type { CapAlert, CapArea, CapInfo, CapResource } from '../model';
import { parseCapTime } from '../time';
import { eachInfo, Findings, type CapProfile, type CapProfileResult } from './profile';

/**
 * `oasis-strict`: the CAP 1.2 rules the XSD cannot express (OASIS CAP 1.2, §3.2 data dictionary and §3.3.2 times).
 * Rules that only say SHOULD or MAY are recommendations.
 */

/** §3.2.1 identifier and sender: "MUST NOT include spaces, commas or restricted characters (< and &)". */
const FORBIDDEN_IN_ID = /[\s,<&]/;
const SHA1_HEX = /^[0-9a-fA-F]{40}$/;
const BASE64 = /^[A-Za-z0-9+/\s]*=?=?\s*$/;
const NEEDS_REFERENCES = new Set(['Update', 'Cancel', 'Ack', 'Error']);

function checkTime(findings: Findings, value: string | undefined, xpath: string): void {
  if (value !== undefined && !parseCapTime(value)) {
    findings.error(xpath, `expected a date and time with a time-zone offset, YYYY-MM-DDThh:mm:ss±hh:mm (CAP 1.2 §3.3.2), got ${JSON.stringify(value)}`);
  }
}

function isAbsoluteUri(value: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(value) && URL.canParse(value);
}

function checkAlertBlock(alert: CapAlert, findings: Findings): void {
  for (const name of ['identifier', 'sender'] as const) {
    if (alert[name] === '' || FORBIDDEN_IN_ID.test(alert[name]))
      findings.error(`/alert/${name}`, `expected no spaces, commas, "<" or "&" (CAP 1.2 §3.2.1), got ${JSON.stringify(alert[name])}`);
  }
  checkTime(findings, alert.sent, '/alert/sent');
  if (alert.scope === 'Restricted' && !alert.restriction?.trim())
    findings.error('/alert/scope', 'scope is Restricted, so <restriction> is required (CAP 1.2 §3.2.1)');
  if (alert.scope === 'Private' && !alert.addresses?.trim()) findings.error('/alert/scope', 'scope is Private, so <addresses> is required (CAP 1.2 §3.2.1)');
  if (alert.scope !== 'Restricted' && alert.restriction?.trim())
    findings.recommend('/alert/restriction', `<restriction> is used with scope Restricted only; this alert is ${alert.scope} (CAP 1.2 §3.2.1)`);
  if (NEEDS_REFERENCES.has(alert.msgType)) {
    const references = alert.references?.trim().split(/\s+/).filter(Boolean) ?? [];
    if (references.length === 0)
      findings.error(
        alert.references === undefined ? '/alert/msgType' : '/alert/references',
        `msgType ${alert.msgType} needs <references> naming the earlier message(s) as "sender,identifier,sent" (CAP 1.2 §3.2.1)`,
      );
    for (const reference of references) {
      const parts = reference.split(',');
      if (parts.length !== 3 || parts.slice(0, 2).some((part) => part === '') || !parseCapTime(parts[2])) {
        findings.error(
          '/alert/references',
          `expected each reference as "sender,identifier,sent" with sent a CAP time (CAP 1.2 §3.2.1), got ${JSON.stringify(reference)}`,
        );
      }
    }
  }
  if ((alert.msgType === 'Alert' || alert.msgType === 'Update') && !alert.info?.length)
    findings.recommend('/alert', `an ${alert.msgType} without <info> tells recipients nothing about the event (CAP 1.2 §3.2.2)`);
}

function checkInfo(alert: CapAlert, info: CapInfo, xpath: string, findings: Findings): void {
  for (const name of ['effective', 'onset', 'expires'] as const) checkTime(findings, info[name], `${xpath}/${name}`);
  const sent = parseCapTime(alert.sent);
  const expires = info.expires === undefined ? undefined : parseCapTime(info.expires);
  if (sent && expires && expires.date < sent.date)
    findings.recommend(`${xpath}/expires`, `expires ${info.expires} is before sent ${alert.sent}: the alert is over before it is sent`);
  if (info.web !== undefined && !isAbsoluteUri(info.web))
    findings.error(`${xpath}/web`, `expected a full, absolute URI (CAP 1.2 §3.2.2), got ${JSON.stringify(info.web)}`);
  if (info.headline !== undefined && info.headline.length > 160)
    findings.recommend(`${xpath}/headline`, `the headline has ${info.headline.length} characters; 160 is the suggested limit (CAP 1.2 §3.2.2)`);
  info.resource?.forEach((resource, index) => checkResource(resource, `${xpath}/resource[${index + 1}]`, findings));
  info.area?.forEach((area, index) => checkArea(area, `${xpath}/area[${index + 1}]`, findings));
}

function checkResource(resource: CapResource, xpath: string, findings: Findings): void {
  if (!resource.mimeType.trim())
    findings.error(`${xpath}/mimeType`, 'expected the MIME type of the resource, e.g. "image/jpeg" (CAP 1.2 §3.2.3), got an empty element');
  if (resource.uri !== undefined && !isAbsoluteUri(resource.uri) && resource.derefUri === undefined) {
    findings.error(
      `${xpath}/uri`,
      `expected a full, absolute URI, or a relative one only beside <derefUri> (CAP 1.2 §3.2.3), got ${JSON.stringify(resource.uri)}`,
    );
  }
  if (resource.derefUri !== undefined && !BASE64.test(resource.derefUri))
    findings.error(`${xpath}/derefUri`, 'expected the resource as base64 (CAP 1.2 §3.2.3)');
  if (resource.digest !== undefined && !SHA1_HEX.test(resource.digest.trim())) {
    findings.error(`${xpath}/digest`, `expected the SHA-1 digest of the resource as 40 hex digits (CAP 1.2 §3.2.3), got ${JSON.stringify(resource.digest)}`);
  }
}

/** "lat,lon" in WGS 84 degrees; undefined when it is not one. */
function point(text: string): [number, number] | undefined {
  const match = /^(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)$/.exec(text);
  if (!match) return undefined;
  const [latitude, longitude] = [Number(match[1]), Number(match[2])];
  return Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180 ? [latitude, longitude] : undefined;
}

function checkArea(area: CapArea, xpath: string, findings: Findings): void {
  area.polygon?.forEach((polygon, index) => {
    const pairs = polygon.trim().split(/\s+/);
    const where = `${xpath}/polygon[${index + 1}]`;
    const bad = pairs.find((pair) => !point(pair));
    if (bad !== undefined) findings.error(where, `expected "lat,lon" pairs in WGS 84 degrees (CAP 1.2 §3.2.4), got ${JSON.stringify(bad)}`);
    else if (pairs.length < 4 || pairs[0] !== pairs[pairs.length - 1])
      findings.error(
        where,
        `expected at least 4 pairs with the first repeated last (CAP 1.2 §3.2.4), got ${pairs.length} pairs${pairs[0] === pairs[pairs.length - 1] ? '' : ', not closed'}`,
      );
  });
  area.circle?.forEach((circle, index) => {
    const [centre, radius, ...rest] = circle.trim().split(/\s+/);
    if (!point(centre) || !/^\d+(\.\d+)?$/.test(radius ?? '') || rest.length > 0) {
      findings.error(
        `${xpath}/circle[${index + 1}]`,
        `expected "lat,lon radius" with the radius in kilometres (CAP 1.2 §3.2.4), got ${JSON.stringify(circle)}`,
      );
    }
  });
  if (area.ceiling !== undefined && area.altitude === undefined)
    findings.error(`${xpath}/ceiling`, '<ceiling> is used only together with <altitude> (CAP 1.2 §3.2.4)');
  if (area.ceiling !== undefined && area.altitude !== undefined && area.altitude > area.ceiling)
    findings.error(`${xpath}/altitude`, `altitude ${area.altitude} is above ceiling ${area.ceiling}`);
}

/** The oasis-strict rules, for other profiles to build on. */
export function checkOasisStrict(alert: CapAlert): CapProfileResult {
  const findings = new Findings();
  checkAlertBlock(alert, findings);
  for (const { info, xpath } of eachInfo(alert)) checkInfo(alert, info, xpath, findings);
  return findings;
}

export const oasisStrict: CapProfile = {
  id: 'oasis-strict',
  name: 'OASIS CAP 1.2, rules beyond the XSD',
  source: 'OASIS Common Alerting Protocol Version 1.2 (2010), §3.2 and §3.3.2',
  check: checkOasisStrict,
};
