// Writes the API reference of the element, generated from custom-elements.json, into README.md
// between the two markers below. `--check` only compares, and exits 1 when the README is stale.
//
// Everything comes from the manifest, in the manifest's order (the order of the source JSDoc):
// edit the JSDoc in the element's source and run `npm run analyze && npm run docs`.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';

export const START = '<!-- api:start -->';
export const END = '<!-- api:end -->';

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

/** One table cell: on one line, and a `|` does not end the cell (GitHub keeps `\|` as `|`, in code too). */
function cell(text) {
  return (text ?? '').replace(/\s+/g, ' ').trim().replaceAll('|', '\\|');
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

function table(header, rows) {
  const line = (cells) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A table without the columns no row fills (e.g. Default when nothing has one). */
function tableOf(columns, items) {
  const used = columns.filter((column) => column.always || items.some((item) => column.value(item)));
  return table(
    used.map((column) => column.title),
    items.map((item) => used.map((column) => column.value(item))),
  );
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
  const readonly = (field) => (field.readonly ? `${code(field.name)} (read-only)` : code(field.name));

  const out = [
    `<!-- Generated by \`npm run docs\` from custom-elements.json: edit the JSDoc in ${module.path}, not this section. -->`,
    `${code(`<${element.tagName}>`)}: ${element.summary || element.description || ''}`,
  ];
  const section = (title, intro, items, columns) => {
    if (items.length === 0) return;
    out.push(`### ${title}`);
    if (intro) out.push(intro);
    out.push(tableOf(columns, items));
  };

  section('Attributes', 'Each attribute is also the property named beside it.', attributes, [
    { title: 'Attribute', value: (a) => code(a.name), always: true },
    { title: 'Property', value: (a) => (fieldOf(a) ? readonly(fieldOf(a)) : '') },
    { title: 'Type', value: (a) => type(a.type?.text ?? fieldOf(a)?.type?.text) },
    {
      title: 'Default',
      value: (a) => ((a.default ?? fieldOf(a)?.default) ? code(a.default ?? fieldOf(a).default) : ''),
    },
    { title: 'Description', value: (a) => describe(a) || describe(fieldOf(a) ?? {}), always: true },
  ]);
  section('Properties', withAttribute.size ? 'Properties without an attribute.' : '', properties, [
    { title: 'Property', value: readonly, always: true },
    { title: 'Type', value: (p) => type(p.type?.text) },
    { title: 'Default', value: (p) => (p.default ? code(p.default) : '') },
    { title: 'Description', value: describe, always: true },
  ]);
  section('Methods', '', methods, [
    { title: 'Method', value: signature, always: true },
    { title: 'Description', value: methodDescription, always: true },
  ]);
  section('Events', '', element.events ?? [], [
    { title: 'Event', value: (e) => code(e.name), always: true },
    { title: '`detail`', value: eventDetail },
    { title: 'Description', value: describe, always: true },
  ]);
  section('CSS parts', '', element.cssParts ?? [], [
    { title: 'Part', value: (p) => code(p.name), always: true },
    { title: 'Description', value: describe, always: true },
  ]);
  section('CSS custom properties', '', element.cssProperties ?? [], [
    { title: 'Property', value: (p) => code(p.name), always: true },
    { title: 'Default', value: (p) => (p.default ? code(p.default) : '') },
    { title: 'Description', value: describe, always: true },
  ]);
  section('Slots', '', element.slots ?? [], [
    { title: 'Slot', value: (s) => (s.name ? code(s.name) : '(default)'), always: true },
    { title: 'Description', value: describe, always: true },
  ]);
  return out.join('\n\n') + '\n';
}

/** The text that belongs between the markers: the reference through Prettier, with the README's config. */
export async function generateSection(manifest, { readmePath = 'README.md', tag } = {}) {
  const config = (await prettier.resolveConfig(resolve(readmePath))) ?? {};
  return prettier.format(renderApi(manifest, tag), { ...config, parser: 'markdown' });
}

/** The text between the markers, or `undefined` when the README lacks them. */
export function extractSection(readme) {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END, start);
  if (start < 0 || end < 0) return undefined;
  return readme
    .slice(start + START.length, end)
    .replace(/^\n+/, '')
    .replace(/\n+$/, '\n');
}

export function replaceSection(readme, section) {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END, start);
  if (start < 0 || end < 0) throw new Error(`README.md has no ${START} … ${END} markers`);
  return `${readme.slice(0, start + START.length)}\n\n${section}\n${readme.slice(end)}`;
}

async function main(args) {
  const readmePath = 'README.md';
  const manifest = JSON.parse(readFileSync('custom-elements.json', 'utf8'));
  const readme = readFileSync(readmePath, 'utf8');
  const section = await generateSection(manifest, { readmePath });
  const current = extractSection(readme);
  if (current === undefined) {
    console.error(`README.md has no ${START} … ${END} markers for the API reference.`);
    return 1;
  }
  if (args.includes('--check')) {
    if (current !== section) {
      console.error('README.md API reference is stale: run `npm run docs` and commit the result.');
      return 1;
    }
    console.log('README.md API reference is up to date.');
    return 0;
  }
  const updated = replaceSection(readme, section);
  if (updated !== readme) writeFileSync(readmePath, updated);
  console.log(updated === readme ? 'README.md API reference was up to date.' : 'README.md API reference written.');
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
