import * as fs from 'node:fs';
import * as path from 'node:path';
import { CidrSet, parseCidr, type Cidr } from '../flow/local';
import { UserError } from '../util/errors';
import { RuleSet } from './ruleset';
import { shippedRulesDir } from './paths';
import { SHAPE_NAMES, type Condition, type Rule, type ShapeName, type Side } from './types';

const SHAPES: readonly ShapeName[] = SHAPE_NAMES;
const APP_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const KEYED = /^(!?)(l|r)?(port|net)=(.*)$/;
const RATE = /^rate>=(\d+(?:\.\d+)?)(?:pps)?\/(\d+(?:\.\d+)?)s?$/;

/** A parse failure inside a line; turned into FILE:LINE: reason by the caller. */
class LineError extends Error {}

function parsePorts(list: string): number[] {
  const out: number[] = [];
  for (const item of list.split(',')) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(item);
    if (!m) throw new LineError(`'${item}' is not a port or a port range like 3478-3481`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi > 65535 || lo > hi) throw new LineError(`port range '${item}' must lie within 0-65535, low end first`);
    out.push(lo, hi);
  }
  return out;
}

function parseNets(list: string): Cidr[] {
  return list.split(',').map((item) => {
    try {
      return parseCidr(item);
    } catch (err) {
      throw new LineError(err instanceof Error ? err.message : String(err));
    }
  });
}

function parseCondition(tok: string): Condition {
  if (tok === 'udp') return { kind: 'proto', proto: 17 };
  if (tok === 'tcp') return { kind: 'proto', proto: 6 };
  const keyed = KEYED.exec(tok);
  if (keyed) {
    const side: Side = keyed[2] === 'l' ? 'local' : keyed[2] === 'r' ? 'remote' : 'any';
    const negate = keyed[1] === '!';
    if (keyed[4] === '') throw new LineError(`'${tok}' needs a value after '='`);
    return keyed[3] === 'port'
      ? { kind: 'port', side, negate, ranges: parsePorts(keyed[4]) }
      : { kind: 'net', side, negate, nets: new CidrSet(parseNets(keyed[4])) };
  }
  if (tok.startsWith('shape=')) {
    const names = tok.slice(6).split('+');
    for (const n of names) {
      if (!SHAPES.includes(n as ShapeName)) throw new LineError(`unknown shape '${n}' (known: ${SHAPES.join(', ')})`);
    }
    return { kind: 'shape', shapes: names as ShapeName[] };
  }
  if (tok.startsWith('rate')) {
    const m = RATE.exec(tok);
    if (!m || Number(m[1]) <= 0 || Number(m[2]) <= 0) {
      throw new LineError(`'${tok}' is not a rate; write rate>=PACKETS_PER_S/SECONDS, e.g. rate>=20pps/2s`);
    }
    return { kind: 'rate', pps: Number(m[1]), seconds: Number(m[2]) };
  }
  throw new LineError(
    `unknown condition '${tok}' (known: udp, tcp, [!][l|r]port=LIST, [!][l|r]net=CIDR,..., shape=NAME[+NAME], rate>=N/Ts)`,
  );
}

function parseLine(text: string, file: string, line: number): Rule | null {
  const body = text.replace(/#.*$/, '').trim();
  if (body === '') return null;
  const colon = body.indexOf(':');
  if (colon < 0) throw new LineError(`expected 'APP: CONDITION ...' or '!WHAT: CONDITION ...' (e.g. 'zoom: udp rport=8801-8810')`);
  const name = body.slice(0, colon).trim();
  const exclude = name.startsWith('!');
  const app = exclude ? name.slice(1) : name;
  if (!APP_NAME.test(app)) throw new LineError(`app name '${app}' must start with a letter and use only letters, digits, _ . -`);
  const tokens = body.slice(colon + 1).trim().split(/\s+/).filter((t) => t !== '');
  if (tokens.length === 0) throw new LineError(`rule '${app}' has no conditions; it would match every flow`);
  const conditions = tokens.map(parseCondition);
  const protos = conditions.filter((c) => c.kind === 'proto');
  if (protos.length > 1) throw new LineError('give one protocol per rule (udp or tcp); write two rules for both');
  return { app, exclude, file, line, conditions };
}

/** Parses the text of one rules file; errors say FILE:LINE: reason. */
export function parseRules(text: string, file: string): Rule[] {
  const rules: Rule[] = [];
  text.split(/\r?\n/).forEach((lineText, i) => {
    try {
      const r = parseLine(lineText, file, i + 1);
      if (r) rules.push(r);
    } catch (err) {
      if (err instanceof LineError) throw new UserError(`${file}:${i + 1}: ${err.message}`);
      throw err;
    }
  });
  return rules;
}

/**
 * Loads the rules from a file, or from every *.rules file of a directory in name order
 * (so 10-zoom.rules is tried before 90-webrtc.rules). Default: the shipped rules/ directory.
 */
export function loadRules(p: string = shippedRulesDir()): RuleSet {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    throw new UserError(`${p}: no such rules file or directory (give --rules FILE or DIR)`);
  }
  const files = st.isDirectory()
    ? fs.readdirSync(p).filter((n) => n.endsWith('.rules')).sort().map((n) => path.join(p, n))
    : [p];
  if (files.length === 0) throw new UserError(`${p}: no *.rules files in this directory`);
  const rules: Rule[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch (err) {
      throw new UserError(`${f}: cannot read rules file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    // the shipped rules are named as in the source tree, so a reason reads the same on every machine
    rules.push(...parseRules(text, path.dirname(f) === shippedRulesDir() ? `rules/${path.basename(f)}` : f));
  }
  if (rules.length === 0) throw new UserError(`${p}: holds no rules (only comments or blank lines)`);
  return new RuleSet(rules, files);
}
