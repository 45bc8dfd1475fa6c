// Every relative link and image in the project's Markdown resolves: the file (or folder) exists,
// and an anchor (`#…`) names a heading of the page it points into, slugged as GitHub slugs it.
// Also: every page of docs/ is linked from the README, and links back to it.
//
// node scripts/check-links.mjs [root]   exits 1 and lists what is broken
import GithubSlugger from 'github-slugger';
import MarkdownIt from 'markdown-it';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const markdown = new MarkdownIt({ html: true });

/** The Markdown pages checked: the README, the changelog and contributing guide, docs/ and examples/. */
export function pages(root) {
  const top = ['README.md', 'CHANGELOG.md', 'CONTRIBUTING.md'].filter((file) => existsSync(join(root, file)));
  const under = (folder) =>
    existsSync(join(root, folder))
      ? readdirSync(join(root, folder), { recursive: true })
          .filter((file) => file.endsWith('.md'))
          .map((file) => join(folder, file))
      : [];
  return [...top, ...under('docs'), ...under('examples')].sort();
}

/** The anchors a page offers: its headings as GitHub slugs them, and `id`/`name` of its HTML. */
export function anchors(text) {
  const slugger = new GithubSlugger();
  const found = new Set();
  const tokens = markdown.parse(text, {});
  tokens.forEach((token, i) => {
    if (token.type === 'heading_open') {
      const inline = tokens[i + 1];
      const words = (inline.children ?? [])
        .filter((child) => child.type === 'text' || child.type === 'code_inline')
        .map((child) => child.content)
        .join('');
      found.add(slugger.slug(words));
    }
    if (token.type === 'html_block' || token.type === 'html_inline') {
      for (const match of token.content.matchAll(/\s(?:id|name)="([^"]+)"/g)) found.add(match[1]);
    }
    for (const child of token.children ?? []) {
      if (child.type === 'html_inline') {
        for (const match of child.content.matchAll(/\s(?:id|name)="([^"]+)"/g)) found.add(match[1]);
      }
    }
  });
  return found;
}

/** Every link and image target of a page, with its line: Markdown links, images, and HTML href/src. */
export function links(text) {
  const found = [];
  const fromHtml = (html, line) => {
    for (const match of html.matchAll(/\s(?:href|src)="([^"]+)"/g)) found.push({ target: match[1], line });
  };
  let line = 1;
  for (const token of markdown.parse(text, {})) {
    // Table cells carry no line of their own: the row's is the last one seen.
    if (token.map) line = token.map[0] + 1;
    if (token.type === 'html_block') fromHtml(token.content, line);
    for (const child of token.children ?? []) {
      if (child.type === 'link_open') found.push({ target: child.attrGet('href'), line });
      if (child.type === 'image') found.push({ target: child.attrGet('src'), line });
      if (child.type === 'html_inline') fromHtml(child.content, line);
    }
  }
  return found;
}

const external = (target) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

/** What is broken in the pages under `root`, as readable lines; empty when all resolves. */
export function check(root) {
  const problems = [];
  const anchorCache = new Map();
  const anchorsOf = (file) => {
    if (!anchorCache.has(file)) anchorCache.set(file, anchors(readFileSync(file, 'utf8')));
    return anchorCache.get(file);
  };
  const list = pages(root);
  for (const page of list) {
    const file = join(root, page);
    for (const { target, line } of links(readFileSync(file, 'utf8'))) {
      if (!target || external(target)) continue;
      const [path, anchor] = target.split('#', 2);
      const where = path ? resolve(dirname(file), decodeURIComponent(path.split('?')[0])) : file;
      if (!existsSync(where)) {
        problems.push(`${page}:${line}: ${target}: no such file`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!where.endsWith('.md') || statSync(where).isDirectory()) {
        problems.push(`${page}:${line}: ${target}: an anchor into a file that is not Markdown`);
      } else if (!anchorsOf(where).has(decodeURIComponent(anchor))) {
        problems.push(`${page}:${line}: ${target}: no heading "#${anchor}" in ${relative(root, where)}`);
      }
    }
  }
  // The docs are linked both ways with the README.
  if (list.includes('README.md')) {
    const fromReadme = new Set(
      links(readFileSync(join(root, 'README.md'), 'utf8')).map(({ target }) =>
        relative(root, resolve(root, (target ?? '').split('#')[0])),
      ),
    );
    for (const page of list.filter((p) => p.startsWith('docs/'))) {
      if (!fromReadme.has(page)) problems.push(`README.md: no link to ${page}`);
      const back = links(readFileSync(join(root, page), 'utf8')).some(
        ({ target }) =>
          relative(root, resolve(dirname(join(root, page)), (target ?? '').split('#')[0])) === 'README.md',
      );
      if (!back) problems.push(`${page}: no link back to README.md`);
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? '.');
  const problems = check(root);
  if (problems.length > 0) {
    console.error(`Broken links in the documentation:\n${problems.join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log(`Links: every relative link and anchor in ${pages(root).length} pages resolves.`);
  }
}
