// The API reference: fetches /api/openapi.json and renders every operation (parameters,
// request body, responses with their schemas and examples) and every schema. Text from the
// document is only ever set with textContent, never as markup.

const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'];

/** Creates an element with a class and children (strings become text). */
function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

function anchorFor(kind, name) {
  return `${kind}-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** A `$ref` to `#/components/<kind>/<name>`: its name. */
function refName(ref) {
  return ref.split('/').pop();
}

/** A one-line type for a schema, with links to named schemas. */
function typeOf(schema) {
  if (!schema) return el('span', 'type', 'any');
  if (schema.$ref) {
    const name = refName(schema.$ref);
    const link = el('a', 'type ref', name);
    link.href = `#${anchorFor('schema', name)}`;
    return link;
  }
  if (schema.contentSchema) {
    // An SSE event's data: the string an EventSource hands over, holding JSON of this schema.
    return el('span', 'type', `string: ${schema.contentMediaType || 'encoded'} `, typeOf(schema.contentSchema));
  }
  const alternatives = schema.oneOf || schema.anyOf;
  if (alternatives) return joined(alternatives.map(typeOf), ' | ');
  if (schema.enum) return el('span', 'type', schema.enum.map((v) => JSON.stringify(v)).join(' | '));
  const types = Array.isArray(schema.type) ? schema.type : [schema.type || 'any'];
  return joined(types.map((t) => {
    if (t === 'array') return el('span', 'type', typeOf(schema.items), '[]');
    const format = schema.format && t !== 'null' ? ` (${schema.format})` : '';
    return el('span', 'type', `${t}${format}`);
  }), ' | ');
}

function joined(nodes, separator) {
  const span = el('span', 'type');
  nodes.forEach((node, i) => {
    if (i > 0) span.append(separator);
    span.append(node);
  });
  return span;
}

/** Limits worth telling: lengths, ranges, defaults. */
function limits(schema) {
  const parts = [];
  if (schema.minLength !== undefined) parts.push(`min length ${schema.minLength}`);
  if (schema.maxLength !== undefined) parts.push(`max length ${schema.maxLength}`);
  if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
  if (schema.minItems !== undefined) parts.push(`at least ${schema.minItems} items`);
  if (schema.maxItems !== undefined) parts.push(`at most ${schema.maxItems} items`);
  if (schema.default !== undefined) parts.push(`default ${JSON.stringify(schema.default)}`);
  return parts.join(', ');
}

function example(value) {
  return el('pre', 'example', JSON.stringify(value, null, 2));
}

/** An object schema's properties as a table; other schemas as their type. */
function schemaBlock(schema) {
  const block = el('div', 'schema');
  const alternatives = schema && (schema.oneOf || schema.anyOf);
  if (alternatives && alternatives.some((alternative) => alternative.properties)) {
    // Inline objects (the stream's events): a table each, or the reader sees `object | object`.
    block.append(el('p', null, schema.oneOf ? 'One of:' : 'Any of:'));
    for (const alternative of alternatives) {
      block.append(description(alternative.description), schemaBlock(alternative));
    }
    return block;
  }
  if (schema && schema.properties) {
    const required = new Set(schema.required || []);
    const table = el('table', 'fields',
      el('thead', null, el('tr', null, el('th', null, 'field'), el('th', null, 'type'), el('th', null, 'notes'))));
    const body = el('tbody');
    for (const [name, property] of Object.entries(schema.properties)) {
      const notes = [property.description, limits(property)].filter(Boolean).join(' — ');
      body.append(el('tr', null,
        el('td', 'field', el('code', null, name), required.has(name) ? el('span', 'required', ' required') : null),
        el('td', null, typeOf(property)),
        el('td', 'notes', notes)));
    }
    table.append(body);
    block.append(table);
    if (schema.additionalProperties === false) block.append(el('p', 'note', 'No other fields are accepted.'));
  } else {
    block.append(el('p', null, 'Type: ', typeOf(schema)));
    if (schema) {
      const more = limits(schema);
      if (more) block.append(el('p', 'note', more));
    }
  }
  return block;
}

function description(text) {
  const box = el('div', 'description');
  for (const paragraph of (text || '').split('\n\n')) {
    if (paragraph.trim()) box.append(el('p', null, paragraph));
  }
  return box;
}

function contentBlock(content) {
  const box = el('div', 'content');
  for (const [mediaType, media] of Object.entries(content || {})) {
    box.append(el('p', 'media', el('code', null, mediaType), ' ', typeOf(media.schema)));
    if (media.example !== undefined) box.append(example(media.example));
  }
  return box;
}

function parametersBlock(parameters) {
  const table = el('table', 'fields',
    el('thead', null, el('tr', null, el('th', null, 'parameter'), el('th', null, 'in'), el('th', null, 'type'), el('th', null, 'notes'))));
  const body = el('tbody');
  for (const p of parameters) {
    const notes = [p.description, p.schema ? limits(p.schema) : ''].filter(Boolean).join(' — ');
    body.append(el('tr', null,
      el('td', 'field', el('code', null, p.name), p.required ? el('span', 'required', ' required') : null),
      el('td', null, p.in),
      el('td', null, typeOf(p.schema)),
      el('td', 'notes', notes)));
  }
  table.append(body);
  return table;
}

function responsesBlock(responses, doc) {
  const list = el('div', 'responses');
  for (const [status, response] of Object.entries(responses || {})) {
    const resolved = response.$ref ? doc.components.responses[refName(response.$ref)] : response;
    const row = el('div', `response status-${status[0]}xx`,
      el('h4', null, el('span', 'status', status), ' ', resolved.description || ''));
    if (response.$ref) row.append(el('p', 'note', `(${refName(response.$ref)})`));
    row.append(contentBlock(resolved.content));
    if (resolved.links) {
      const links = Object.entries(resolved.links).map(([name, link]) => `${name} → ${link.operationId}`);
      row.append(el('p', 'note', `Links: ${links.join(', ')}`));
    }
    list.append(row);
  }
  return list;
}

function securityText(operation, doc) {
  const security = operation.security || doc.security;
  if (!security || security.length === 0) return 'No token needed.';
  const schemes = security.flatMap((requirement) => Object.keys(requirement));
  return `Token: ${schemes.join(' or ')}.`;
}

function operationBlock(path, method, operation, doc) {
  const id = anchorFor('op', operation.operationId || `${method}${path}`);
  const section = el('section', 'operation');
  section.id = id;
  section.append(el('h3', null, el('span', `method ${method}`, method.toUpperCase()), ' ', el('code', 'path', path)));
  if (operation.summary) section.append(el('p', 'summary', operation.summary));
  section.append(description(operation.description));
  section.append(el('p', 'note', securityText(operation, doc)));
  if (operation.parameters && operation.parameters.length) {
    section.append(el('h4', null, 'Parameters'), parametersBlock(operation.parameters));
  }
  if (operation.requestBody) {
    section.append(el('h4', null, 'Request body'), description(operation.requestBody.description),
      contentBlock(operation.requestBody.content));
  }
  section.append(el('h4', null, 'Responses'), responsesBlock(operation.responses, doc));
  return section;
}

function render(doc) {
  const main = document.getElementById('reference');
  const toc = document.getElementById('toc');
  main.replaceChildren();
  document.getElementById('title').textContent = `${doc.info.title} ${doc.info.version} API reference`;
  main.append(description(doc.info.description));

  const byTag = new Map((doc.tags || []).map((tag) => [tag.name, { tag, operations: [] }]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const name = (operation.tags || ['other'])[0];
      if (!byTag.has(name)) byTag.set(name, { tag: { name }, operations: [] });
      byTag.get(name).operations.push({ path, method, operation });
    }
  }
  for (const { tag, operations } of byTag.values()) {
    if (operations.length === 0) continue;
    const heading = el('h2', null, tag.name);
    heading.id = anchorFor('tag', tag.name);
    main.append(heading, description(tag.description));
    const entries = el('ul');
    toc.append(el('h2', null, tag.name), entries);
    for (const { path, method, operation } of operations) {
      const block = operationBlock(path, method, operation, doc);
      main.append(block);
      const link = el('a', null, el('span', `method ${method}`, method.toUpperCase()), ' ', path);
      link.href = `#${block.id}`;
      entries.append(el('li', null, link));
    }
  }

  const heading = el('h2', null, 'Schemas');
  main.append(heading);
  const entries = el('ul');
  toc.append(el('h2', null, 'schemas'), entries);
  for (const [name, schema] of Object.entries(doc.components.schemas || {})) {
    const section = el('section', 'schema-def', el('h3', null, name));
    section.id = anchorFor('schema', name);
    section.append(description(schema.description), schemaBlock(schema));
    if (schema.example !== undefined) section.append(el('h4', null, 'Example'), example(schema.example));
    main.append(section);
    const link = el('a', null, name);
    link.href = `#${section.id}`;
    entries.append(el('li', null, link));
  }
}

async function main() {
  try {
    const response = await fetch('/api/openapi.json');
    if (!response.ok) throw new Error(`GET /api/openapi.json answered ${response.status}`);
    render(await response.json());
    // The anchors exist only now: follow a link into the page (`/api/docs#schema-Snapshot`).
    if (location.hash) document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
  } catch (error) {
    document.getElementById('status').textContent = `Could not load the document: ${error.message}`;
  }
}

main();
