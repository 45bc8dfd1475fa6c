// Writes the API reference of the element, generated from custom-elements.json, into docs/api.md
// between the two markers below. `--check` only compares, and exits 1 when the page is stale.
//
// Everything comes from the manifest, in the manifest's order (the order of the source JSDoc):
// edit the JSDoc in the element's source and run `npm run analyze && npm run docs`.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';

export const START = '<!-- api:start -->';
export const END = '<!-- api:end -->';
/** The page the reference is written into. */
export const PAGE = 'docs/api.md';

/** The custom element declared in the manifest (the one with `tag`, or the only one), with its module path. */
export function findElement(manifest, tag) {
  const found = [];
  for (const module of manifest.modules ?? []) {
    for (const declaration of module.declarations ?? []) {
      if (declaration.customElement && (!tag || declaration.tagName === tag)) found.push({ declaration, module });
    }
  }
  if (found.length !== 1) {
    throw new Error(
      tag ? `no custom element <${tag}> in the manifest` : `expected one custom element, found ${found.length}`,
    );
  }
  return found[0];
}

/**
 * The fields of a `CustomEvent<{a: A, b?: B}>` type, as `[{name, type, optional}]`; `undefined` when the
 * type is not a `CustomEvent` of an object literal.
 */
export function detailFields(typeText) {
  const match = /^\s*CustomEvent\s*<([\s\S]*)>\s*$/.exec(typeText ?? '');
  if (!match) return undefined;
  const inner = match[1].trim();
  if (!inner.startsWith('{') || !inner.endsWith('}')) return undefined;
  return splitTopLevel(inner.slice(1, -1)).map((member) => {
    const field = /^(?:readonly\s+)?(['"]?)([^'":?]+)\1\s*(\?)?\s*:\s*([\s\S]+)$/.exec(member);
    if (!field) throw new Error(`cannot read the event detail field \`${member}\` in \`${typeText}\``);
    return { name: field[2].trim(), optional: Boolean(field[3]), type: field[4].trim() };
  });
}

/** Splits at the commas and semicolons that are not inside brackets or string literals. */
function splitTopLevel(text) {
  const parts = [];
  let depth = 0;
  let quote = '';
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quote) {
      if (char === quote && text[i - 1] !== '\\') quote = '';
    } else if (char === '"' || char === "'" || char === '`') {
      quote = char;
    } else if ('{[(<'.includes(char)) {
      depth++;
    } else if ('}])'.includes(char) || (char === '>' && text[i - 1] !== '=')) {
      depth--;
    } else if ((char === ',' || char === ';') && depth === 0) {
      parts.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter(Boolean);
}

/** One entry's part, on one line. */
function cell(text) {
  return (text ?? '').replace(/\s+/g, ' ').trim();
}

/** A type as code, with its union members spaced alike. */
function type(text) {
  return text ? code(text.replace(/\s*\|\s*/g, ' | ')) : '';
}

function code(text) {
  const ticks = text.includes('`') ? '``' : '`';
  return `${ticks}${text}${ticks}`;
}

function describe(item) {
  return item.description || item.summary || '';
}

/**
 * One entry: its name in bold, what else is known of it in brackets, then its description. A list
 * rather than a table: descriptions run to a few hundred characters, which a table keeps on one
 * line, and a list item wraps to the page's width, in a terminal as on GitHub.
 */
function line(name, facts, description) {
  const known = facts.filter(Boolean).map(cell).join(', ');
  return `- **${name}**${known ? ` (${known})` : ''}${description ? `: ${cell(description)}` : ''}`;
}

function camelCase(name) {
  return name.replace(/-([a-z])/g, (_, letter) => letter.toUpperCase());
}

function signature(method) {
  const params = (method.parameters ?? []).map((param) => {
    const name = `${param.rest ? '...' : ''}${param.name}${param.optional ? '?' : ''}`;
    return param.type?.text ? `${name}: ${param.type.text}` : name;
  });
  const returns = method.return?.type?.text ?? 'void';
  return code(`${method.name}(${params.join(', ')}): ${returns}`.replace(/\s*\|\s*/g, ' | '));
}

function methodDescription(method) {
  const params = (method.parameters ?? [])
    .filter((param) => param.description)
    .map((param) => `${code(param.name)}: ${param.description}`);
  const returns = method.return?.description ? [`Returns ${method.return.description}`] : [];
  return [describe(method), ...params, ...returns].filter(Boolean).join(' ');
}

function eventDetail(event) {
  const fields = detailFields(event.type?.text);
  if (fields) return fields.map((f) => type(`${f.name}${f.optional ? '?' : ''}: ${f.type}`)).join(', ');
  return event.type?.text ? type(event.type.text) : '';
}

const isPublic = (member) =>
  !member.static && !member.name.startsWith('#') && (member.privacy ?? 'public') === 'public';

/** The Markdown of the API reference (not yet through Prettier). */
export function renderApi(manifest, tag) {
  const { declaration: element, module } = findElement(manifest, tag);
  const members = element.members ?? [];
  const fields = members.filter((member) => member.kind === 'field' && isPublic(member));
  const methods = members.filter((member) => member.kind === 'method' && isPublic(member));
  const fieldOf = (attribute) =>
    fields.find((field) => field.name === (attribute.fieldName ?? camelCase(attribute.name)));
  const attributes = element.attributes ?? [];
  const withAttribute = new Set(attributes.map(fieldOf).filter(Boolean));
  const properties = fields.filter((field) => !withAttribute.has(field));
  const defaultOf = (item) => (item.default ? `default ${code(item.default)}` : '');

  const out = [
    `<!-- Generated by \`npm run docs\` from custom-elements.json: edit the JSDoc in ${module.path}, not this section. -->`,
    `${code(`<${element.tagName}>`)}: ${element.summary || element.description || ''}`,
  ];
  const section = (title, intro, items, entry) => {
    if (items.length === 0) return;
    out.push(`### ${title}`);
    if (intro) out.push(intro);
    out.push(items.map((item) => line(...entry(item))).join('\n'));
  };

  section(
    'Attributes',
    'Each attribute is also a property (named after it in camelCase when it differs).',
    attributes,
    (a) => {
      const field = fieldOf(a) ?? {};
      const property = field.name && field.name !== a.name ? `property ${code(field.name)}` : '';
      return [
        code(a.name),
        [
          property,
          type(a.type?.text ?? field.type?.text),
          defaultOf(a.default ? a : field),
          field.readonly ? 'read-only' : '',
        ],
        describe(a) || describe(field),
      ];
    },
  );
  section('Properties', withAttribute.size ? 'Properties without an attribute.' : '', properties, (p) => [
    code(p.name),
    [type(p.type?.text), defaultOf(p), p.readonly ? 'read-only' : ''],
    describe(p),
  ]);
  section('Methods', '', methods, (m) => [signature(m), [], methodDescription(m)]);
  section('Events', '', element.events ?? [], (e) => [
    code(e.name),
    [eventDetail(e) ? `\`detail\`: ${eventDetail(e)}` : ''],
    describe(e),
  ]);
  section('CSS parts', '', element.cssParts ?? [], (p) => [code(p.name), [], describe(p)]);
  section('CSS custom properties', '', element.cssProperties ?? [], (p) => [code(p.name), [defaultOf(p)], describe(p)]);
  section('Slots', '', element.slots ?? [], (slot) => [slot.name ? code(slot.name) : '(default)', [], describe(slot)]);
  return out.join('\n\n') + '\n';
}

/** The text that belongs between the markers: the reference through Prettier, with the page's config. */
export async function generateSection(manifest, { path = PAGE, tag } = {}) {
  const config = (await prettier.resolveConfig(resolve(path))) ?? {};
  return prettier.format(renderApi(manifest, tag), { ...config, parser: 'markdown' });
}

/** The text between the markers, or `undefined` when the README lacks them. */
export function extractSection(page) {
  const start = page.indexOf(START);
  const end = page.indexOf(END, start);
  if (start < 0 || end < 0) return undefined;
  return page
    .slice(start + START.length, end)
    .replace(/^\n+/, '')
    .replace(/\n+$/, '\n');
}

export function replaceSection(page, section) {
  const start = page.indexOf(START);
  const end = page.indexOf(END, start);
  if (start < 0 || end < 0) throw new Error(`${PAGE} has no ${START} … ${END} markers`);
  return `${page.slice(0, start + START.length)}\n\n${section}\n${page.slice(end)}`;
}

async function main(args) {
  const manifest = JSON.parse(readFileSync('custom-elements.json', 'utf8'));
  const page = readFileSync(PAGE, 'utf8');
  const section = await generateSection(manifest);
  const current = extractSection(page);
  if (current === undefined) {
    console.error(`${PAGE} has no ${START} … ${END} markers for the API reference.`);
    return 1;
  }
  if (args.includes('--check')) {
    if (current !== section) {
      console.error(`${PAGE} is stale: run \`npm run docs\` and commit the result.`);
      return 1;
    }
    console.log(`${PAGE}: the API reference is up to date.`);
    return 0;
  }
  const updated = replaceSection(page, section);
  if (updated !== page) writeFileSync(PAGE, updated);
  console.log(`${PAGE}: the API reference ${updated === page ? 'was up to date' : 'is written'}.`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
