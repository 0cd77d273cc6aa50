/* Segment builder: compose a rule tree (segments.compute.rule_tree) with dropdowns from the
   catalogue, preview its count live, save it through the segments API. No framework. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("builder-config").textContent);
  const catalogue = config.catalogue;
  const csrf = document.querySelector("#segment-form [name=csrfmiddlewaretoken]").value;
  const root = document.getElementById("rule-tree");
  const countBox = document.getElementById("segment-count");
  const errorsBox = document.getElementById("preview-errors");
  const verdictBox = document.getElementById("realtime-verdict");
  const jsonBox = document.getElementById("tree-json");
  let timer = null;
  let sequenceNumber = 0;

  const TYPES = {
    trait: "Trait", computed: "Computed trait", event: "Event", sequence: "Sequence (A then B)",
    consent: "Consent", segment: "Segment membership", identifier: "Identifier",
  };
  const OP_LABELS = {
    eq: "=", neq: "≠", lt: "<", lte: "≤", gt: ">", gte: "≥", between: "between", in: "in",
    not_in: "not in", contains: "contains", is_set: "is set", not_set: "is not set",
    before: "before", after: "after", within_days: "within last N days",
  };

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([key, value]) => {
      if (key === "text") { node.textContent = value; } else { node.setAttribute(key, value); }
    });
    (children || []).forEach((child) => node.appendChild(child));
    return node;
  }
  function select(cls, options, value) {
    const box = el("select", {class: cls});
    options.forEach(([key, label]) => box.appendChild(el("option", {value: key, text: label})));
    if (value !== undefined && value !== null) { box.value = String(value); }
    return box;
  }
  function input(cls, value, placeholder) {
    const box = el("input", {class: cls, type: "text", placeholder: placeholder || ""});
    box.value = value === undefined || value === null ? "" : (Array.isArray(value) ? value.join(", ") : String(value));
    return box;
  }
  function pairs(list) { return list.map((item) => [item, item]); }
  function typeOf(kind, name) {
    const source = kind === "trait" ? catalogue.traits : catalogue.computed;
    const found = source.find((item) => item.name === name);
    return found ? found.type : "string";
  }
  function opsFor(type) { return (catalogue.operators[type] || catalogue.operators.string).map((op) => [op, OP_LABELS[op] || op]); }

  function parseScalar(type, text) {
    const trimmed = text.trim();
    if (type === "number") { return trimmed === "" ? null : Number(trimmed); }
    if (type === "boolean") { return trimmed === "true"; }
    return trimmed;
  }
  function parseValue(type, op, text) {
    if (op === "is_set" || op === "not_set") { return undefined; }
    if (op === "within_days") { return parseInt(text, 10); }
    if (op === "in" || op === "not_in" || op === "between") {
      return text.split(",").map((part) => parseScalar(type, part)).filter((v) => v !== "" && v !== null);
    }
    return parseScalar(type, text);
  }

  /* ---- reading the DOM back into a tree ---- */
  function readOperand(row, type) {
    const op = row.querySelector(":scope > .op").value;
    const node = {op: op};
    const value = parseValue(type, op, row.querySelector(":scope > .value").value);
    if (value !== undefined) { node.value = value; }
    return node;
  }
  function readWhere(row) {
    return Array.from(row.querySelectorAll(":scope > .where-list > .where-clause")).map((clause) => {
      const property = clause.querySelector(".where-property").value;
      const type = clause.dataset.types ? (JSON.parse(clause.dataset.types)[property] || "string") : "string";
      const op = clause.querySelector(".op").value;
      const node = {property: property, op: op};
      const value = parseValue(type, op, clause.querySelector(".value").value);
      if (value !== undefined) { node.value = value; }
      return node;
    });
  }
  const READERS = {
    trait: (row) => Object.assign({type: "trait", trait: row.querySelector(".trait-name").value}, readOperand(row, typeOf("trait", row.querySelector(".trait-name").value))),
    computed: (row) => Object.assign({type: "computed", trait: row.querySelector(".computed-name").value}, readOperand(row, typeOf("computed", row.querySelector(".computed-name").value))),
    event: (row) => {
      const node = {type: "event", event: row.querySelector(".event-name").value, performed: row.querySelector(".performed").value === "true"};
      const countValue = row.querySelector(".count-value").value.trim();
      if (countValue !== "") { node.count = {op: row.querySelector(".count-op").value, value: parseInt(countValue, 10)}; }
      const days = row.querySelector(".within-days").value.trim();
      if (days !== "") { node.within_days = parseInt(days, 10); }
      const where = readWhere(row);
      if (where.length) { node.where = where; }
      return node;
    },
    sequence: (row) => {
      const node = {type: "sequence", steps: [{event: row.querySelector(".step-first").value}, {event: row.querySelector(".step-then").value}], performed: row.querySelector(".performed").value === "true"};
      const gap = row.querySelector(".within-value").value.trim();
      if (gap !== "") { node.within = {value: Number(gap), unit: row.querySelector(".within-unit").value}; }
      const days = row.querySelector(".within-days").value.trim();
      if (days !== "") { node.within_days = parseInt(days, 10); }
      return node;
    },
    consent: (row) => ({type: "consent", purpose: row.querySelector(".purpose").value, granted: row.querySelector(".granted").value === "true"}),
    segment: (row) => ({type: "segment", segment_id: parseInt(row.querySelector(".segment").value, 10), member: row.querySelector(".member").value === "true"}),
    identifier: (row) => ({type: "identifier", identifier: row.querySelector(".identifier").value, present: row.querySelector(".present").value === "true"}),
  };
  function readGroup(group) {
    const mode = group.querySelector(":scope > .group-head > .group-mode").value;
    const children = Array.from(group.querySelector(":scope > .group-children").children).map((child) =>
      child.classList.contains("rule-group") ? readGroup(child) : READERS[child.dataset.type](child));
    const node = {[mode]: children};
    return group.querySelector(":scope > .group-head .group-negate").checked ? {not: node} : node;
  }

  /* ---- rendering a tree into the DOM ---- */
  function operandRow(row, kind, names, node) {
    const nameBox = select(kind === "trait" ? "trait-name" : "computed-name", names.map((item) => [item.name, item.name]), node.trait);
    const type = typeOf(kind, nameBox.value);
    const opBox = select("op", opsFor(type), node.op);
    row.append(nameBox, opBox, input("value", node.value, type === "date" ? "YYYY-MM-DD" : "value"));
    nameBox.addEventListener("change", () => {
      const fresh = select("op", opsFor(typeOf(kind, nameBox.value)));
      row.replaceChild(fresh, row.querySelector(":scope > .op"));
      fresh.addEventListener("change", changed);
    });
  }
  function whereClause(list, event, clause) {
    const props = catalogue.properties[event] || [];
    const types = Object.fromEntries(props.map((p) => [p.name, p.type]));
    const propBox = select("where-property", props.map((p) => [p.name, p.name]), clause.property);
    const box = el("div", {class: "where-clause"}, [el("span", {text: "where "}), propBox,
      select("op", opsFor(types[propBox.value] || "string"), clause.op), input("value", clause.value, "value")]);
    box.dataset.types = JSON.stringify(types);
    const remove = el("button", {type: "button", class: "remove-where", text: "×"});
    remove.addEventListener("click", () => { box.remove(); changed(); });
    box.appendChild(remove);
    list.appendChild(box);
  }
  const RENDERERS = {
    trait: (row, node) => operandRow(row, "trait", catalogue.traits, node),
    computed: (row, node) => operandRow(row, "computed", catalogue.computed, node),
    event: (row, node) => {
      const count = node.count || {};
      const events = select("event-name", pairs(catalogue.events), node.event);
      row.append(select("performed", [["true", "did"], ["false", "did not"]], String(node.performed !== false)), events,
        el("span", {text: " count "}), select("count-op", catalogue.count_operators.map((op) => [op, OP_LABELS[op] || op]), count.op || "gte"),
        input("count-value", count.value, "times"), el("span", {text: " within last "}), input("within-days", node.within_days, "days"));
      const list = el("div", {class: "where-list"});
      (node.where || []).forEach((clause) => whereClause(list, node.event, clause));
      const add = el("button", {type: "button", class: "add-where", text: "+ where"});
      add.addEventListener("click", () => { whereClause(list, events.value, {}); changed(); });
      row.append(add, list);
    },
    sequence: (row, node) => {
      const steps = node.steps || [{}, {}];
      const within = node.within || {};
      row.append(select("performed", [["true", "did"], ["false", "did not"]], String(node.performed !== false)),
        select("step-first", pairs(catalogue.events), steps[0].event), el("span", {text: " then "}),
        select("step-then", pairs(catalogue.events), steps[1].event), el("span", {text: " within "}),
        input("within-value", within.value, "n"), select("within-unit", pairs(catalogue.sequence_units), within.unit || "hours"),
        el("span", {text: " starting within last "}), input("within-days", node.within_days, "days"));
    },
    consent: (row, node) => row.append(select("purpose", pairs(catalogue.purposes), node.purpose),
      select("granted", [["true", "granted"], ["false", "not granted"]], String(node.granted !== false))),
    segment: (row, node) => row.append(select("member", [["true", "in"], ["false", "not in"]], String(node.member !== false)),
      select("segment", catalogue.segments.filter((s) => s.id !== config.segment_id).map((s) => [s.id, s.name]), node.segment_id)),
    identifier: (row, node) => row.append(select("identifier", pairs(catalogue.identifiers), node.identifier),
      select("present", [["true", "is present"], ["false", "is absent"]], String(node.present !== false))),
  };
  function conditionRow(node) {
    const row = el("div", {class: "rule-condition"});
    row.dataset.type = node.type;
    const typeBox = select("condition-type", Object.entries(TYPES), node.type);
    typeBox.addEventListener("change", () => { row.replaceWith(conditionRow({type: typeBox.value})); changed(); });
    row.appendChild(typeBox);
    RENDERERS[node.type](row, node);
    const remove = el("button", {type: "button", class: "remove", text: "remove"});
    remove.addEventListener("click", () => { row.remove(); changed(); });
    row.appendChild(remove);
    return row;
  }
  function groupBox(node, isRoot) {
    const negated = "not" in node;
    const inner = negated ? node.not : node;
    const mode = "any" in inner ? "any" : "all";
    sequenceNumber += 1;
    const group = el("div", {class: "rule-group", "data-group": String(sequenceNumber)});
    const negate = el("input", {type: "checkbox", class: "group-negate"});
    negate.checked = negated;
    const head = el("div", {class: "group-head"}, [
      el("label", {}, [negate, el("span", {text: " not "})]),
      select("group-mode", [["all", "all of"], ["any", "any of"]], mode),
    ]);
    const children = el("div", {class: "group-children"});
    (inner[mode] || []).forEach((child) => children.appendChild(
      ("all" in child || "any" in child || "not" in child) ? groupBox(child, false) : conditionRow(child)));
    const addCondition = el("button", {type: "button", class: "add-condition", text: "+ condition"});
    addCondition.addEventListener("click", () => { children.appendChild(conditionRow({type: "trait"})); changed(); });
    const addGroup = el("button", {type: "button", class: "add-group", text: "+ group"});
    addGroup.addEventListener("click", () => { children.appendChild(groupBox({any: []}, false)); changed(); });
    head.append(addCondition, addGroup);
    if (!isRoot) {
      const remove = el("button", {type: "button", class: "remove-group", text: "remove group"});
      remove.addEventListener("click", () => { group.remove(); changed(); });
      head.appendChild(remove);
    }
    group.append(head, children);
    return group;
  }

  /* ---- preview and save ---- */
  function currentTree() { return readGroup(root.firstElementChild); }
  async function post(url, body, method) {
    const response = await fetch(url, {method: method || "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf}, body: JSON.stringify(body)});
    return {ok: response.ok, status: response.status, body: await response.json().catch(() => ({}))};
  }
  function showErrors(result) {
    const error = result.body.error || {};
    const issues = (error.details && error.details.issues) || [];
    errorsBox.replaceChildren(...(issues.length ? issues.map((i) => el("li", {text: `${i.path || "root"}: ${i.message}`}))
      : [el("li", {text: error.message || `error ${result.status}`})]));
    errorsBox.hidden = false;
  }
  async function refreshPreview() {
    const tree = currentTree();
    jsonBox.textContent = JSON.stringify(tree, null, 2);
    countBox.dataset.state = "loading";
    const result = await post(config.urls.preview, {rule_tree: tree, sample_size: 5});
    if (!result.ok) { countBox.textContent = "—"; countBox.dataset.state = "error"; showErrors(result); return; }
    errorsBox.hidden = true;
    countBox.textContent = String(result.body.count);
    countBox.dataset.state = "ready";
    document.getElementById("preview-ms").textContent = String(result.body.milliseconds);
    verdictBox.textContent = result.body.is_realtime_capable
      ? "Can be evaluated in real time" + (result.body.realtime_notes.length ? ` (${result.body.realtime_notes.join("; ")})` : "")
      : "Not real-time: " + result.body.realtime_blockers.join("; ");
    verdictBox.dataset.capable = String(result.body.is_realtime_capable);
  }
  function changed() { clearTimeout(timer); timer = setTimeout(refreshPreview, 300); }
  root.addEventListener("change", changed);
  root.addEventListener("input", changed);

  document.getElementById("save-segment").addEventListener("click", async () => {
    const status = document.getElementById("save-status");
    const body = {
      name: document.getElementById("segment-name").value,
      description: document.getElementById("segment-description").value,
      kind: document.getElementById("segment-kind").value,
      is_realtime: document.getElementById("segment-realtime").checked,
      refresh_cron: document.getElementById("segment-cron").value,
      rule_tree: currentTree(),
    };
    const result = config.segment_id
      ? await post(config.urls.detail, body, "PUT")
      : await post(config.urls.create, body);
    if (!result.ok) { status.textContent = (result.body.error || {}).message || "not saved"; status.dataset.state = "error"; return; }
    status.textContent = "saved"; status.dataset.state = "saved";
    window.location.assign(config.urls.edit_pattern.replace("/0/", `/${result.body.id}/`));
  });

  const overlap = document.getElementById("overlap-with");
  if (overlap) {
    overlap.addEventListener("change", async () => {
      const out = document.getElementById("overlap-result");
      if (!overlap.value) { out.textContent = ""; return; }
      const response = await fetch(config.urls.overlap_pattern.replace(/\/0\/$/, `/${overlap.value}/`), {credentials: "same-origin"});
      const data = await response.json();
      out.textContent = `both: ${data.both} · only this one: ${data.only_first} · only the other: ${data.only_second}`;
    });
  }
  const refresh = document.getElementById("refresh-now");
  if (refresh) {
    refresh.addEventListener("click", async () => {
      const result = await post(refresh.dataset.url, {});
      document.getElementById("refresh-status").textContent = result.ok ? "refresh queued" : "refresh refused";
    });
  }

  root.appendChild(groupBox(config.tree, true));
  refreshPreview();
})();
