import type { CapAlert, CapValuePair } from '../model';
import { parseCapTime } from '../time';
import { checkOasisStrict } from './oasis-strict';
import { eachInfo, Findings, type CapProfile, type CapProfileResult } from './profile';

/**
 * `ipaws-1.0`: the US IPAWS profile (OASIS "CAP v1.2 USA Integrated Public Alert and Warning System Profile
 * Version 1.0", 2009) on top of `oasis-strict`. Only the rules that apply to every IPAWS alert are here, as
 * google/cap-library's Ipaws1Profile also reads them; the rules for one dissemination channel (EAS, CMAS/WEA,
 * HazCollect, NWEM) are left out — docs/cap.md lists them.
 */

const PROFILE_CODE = 'IPAWSv1.0';

/** The same pairs regardless of order, for "all <info> blocks carry the same …". */
function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((item) => right.has(item));
}

const pairKey = (pair: CapValuePair) => JSON.stringify([pair.valueName, pair.value]);

function checkOffset(findings: Findings, value: string | undefined, xpath: string, name: string): void {
  const time = value === undefined ? undefined : parseCapTime(value);
  if (time?.offsetMinutes === 0)
    findings.recommend(xpath, `<${name}> SHALL carry the sender's time-zone offset; an offset of 0 is unlikely for a US alert (IPAWS profile 1.0)`);
}

export function checkIpaws1(alert: CapAlert): CapProfileResult {
  const strict = checkOasisStrict(alert);
  const findings = new Findings();
  findings.errors.push(...strict.errors);
  findings.recommendations.push(...strict.recommendations);

  if (!alert.code?.includes(PROFILE_CODE))
    findings.error('/alert', `<code>${PROFILE_CODE}</code> is required to declare the profile version (IPAWS profile 1.0)`);
  checkOffset(findings, alert.sent, '/alert/sent', 'sent');

  const infos = eachInfo(alert);
  const first = infos[0]?.info;
  for (const { info, xpath } of infos) {
    if (first && info !== first) {
      if (!sameSet(info.category, first.category))
        findings.error(xpath, 'every <info> block must have the same <category> values as the first (IPAWS profile 1.0)');
      if (!sameSet((info.eventCode ?? []).map(pairKey), (first.eventCode ?? []).map(pairKey)))
        findings.error(xpath, 'every <info> block must have the same <eventCode> values as the first (IPAWS profile 1.0)');
    }
    if (info.expires === undefined) findings.error(xpath, '<expires> is required (IPAWS profile 1.0)');
    else checkOffset(findings, info.expires, `${xpath}/expires`, 'expires');
    const same = (info.eventCode ?? []).filter((code) => code.valueName === 'SAME');
    if (same.length !== 1 || !/^[A-Z]{3}$/.test(same[0].value)) {
      findings.error(
        xpath,
        `expected exactly one <eventCode> with valueName "SAME" and a three-letter SAME event code (IPAWS profile 1.0), got ${same.length === 1 ? JSON.stringify(same[0].value) : `${same.length}`}`,
      );
    }
    if (!info.area?.length) findings.error(xpath, 'at least one <area> is required (IPAWS profile 1.0)');
    if (info.effective !== undefined)
      findings.recommend(`${xpath}/effective`, '<effective> is ignored: IPAWS alerts are effective when issued (IPAWS profile 1.0)');
    if (info.onset !== undefined) findings.recommend(`${xpath}/onset`, '<onset> is ignored: IPAWS alerts are effective when issued (IPAWS profile 1.0)');
    if (!info.description?.trim()) findings.recommend(xpath, 'a meaningful <description> is recommended (IPAWS profile 1.0)');
    if (!info.instruction?.trim()) findings.recommend(xpath, 'a meaningful <instruction> is recommended (IPAWS profile 1.0)');
    info.area?.forEach((area, index) => {
      if (!area.geocode?.some((code) => code.valueName === 'SAME' && /^\d{6}$/.test(code.value))) {
        findings.recommend(
          `${xpath}/area[${index + 1}]`,
          'at least one <geocode> with valueName "SAME" and a 6-digit SAME location code (extended FIPS) should be given (IPAWS profile 1.0)',
        );
      }
    });
  }
  return findings;
}

export const ipaws1: CapProfile = {
  id: 'ipaws-1.0',
  name: 'US IPAWS profile 1.0',
  source: 'OASIS CAP v1.2 USA Integrated Public Alert and Warning System Profile Version 1.0 (2009); cross-checked with google/cap-library Ipaws1Profile',
  check: checkIpaws1,
};
