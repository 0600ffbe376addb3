// The dev phone's page: the server pushes every change over one EventSource; the page never polls.
"use strict";

const STEP_LABELS = {accepted: "accepted", intake: "intake", completion: "completion", reply: "reply",
                     delivered: "delivered"};
const state = {run: null, users: new Map(), messages: new Map(), replies: new Map(), status: null, active: null,
               stick: true};  // stick: keep the newest message in view (false once the reader scrolls up)
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const clock = (t) => new Date(t * 1000).toLocaleTimeString([], {hour12: false}) +
  "." + String(Math.floor((t * 1000) % 1000)).padStart(3, "0");
const short = (t) => new Date(t * 1000).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", hour12: false});

function upsert(item) {
  const maps = {user: state.users, message: state.messages, reply: state.replies};
  if (item.kind === "status") state.status = item.error;
  else if (maps[item.kind]) maps[item.kind].set(item.id, item);
}

function reset() {
  state.users.clear(); state.messages.clear(); state.replies.clear();
}

function conversation(user) {
  const sent = [...state.messages.values()].filter((m) => m.user === user).map((m) => ({at: m.sent_at, m}));
  const got = [...state.replies.values()].filter((r) => r.user === user).map((r) => ({at: r.at || 0, r}));
  return [...sent, ...got].sort((a, b) => a.at - b.at);
}

function trail(message) {
  const accepted = message.steps[0] && message.steps[0].at;
  const steps = message.steps.map((step) => {
    const when = step.at === null ? "" : (step.name === "accepted" || !accepted ? clock(step.at)
      : `+${(step.at - accepted).toFixed(2)} s`);
    const cls = "step" + (step.reached ? " reached" : "") + (step.failed ? " failed" : "");
    return el("li", {class: cls, "data-step": step.name, title: step.at ? clock(step.at) : "not yet"},
      el("span", {}, STEP_LABELS[step.name] || step.name,
        step.detail ? el("span", {class: "detail"}, step.detail) : null),
      el("time", {}, when));
  });
  const box = el("div", {class: "trail"}, el("ol", {class: "path"}, steps));
  if (message.answered_with) {
    const later = state.messages.get(message.answered_with);
    box.append(el("div", {class: "with", "data-answered-with": message.answered_with},
      `answered with “${later ? (later.text || later.content) : message.answered_with}”`));
  }
  const flower = el("div", {class: "flower"}, "Flower: ");
  if (message.flower && message.flower.length) {
    for (const link of message.flower) {
      flower.append(el("a", {href: link.url, target: "_blank", rel: "noopener", title: link.state}, link.stage));
    }
  } else if (message.flower_problem) {
    flower.append(el("span", {class: "problem"}, message.flower_problem));
  } else {
    flower.append("no tasks yet");
  }
  box.append(flower);
  return box;
}

function outgoingBubble(message) {
  const body = [];
  if (message.content === "photo" && message.media_url) body.push(el("img", {src: message.media_url, alt: "photo"}));
  if (message.content === "voice") {
    body.push(el("div", {class: "kind"}, "voice note"));
    if (message.media_url) body.push(el("audio", {src: message.media_url, controls: true, preload: "none"}));
    for (const heard of message.transcripts || []) body.push(el("div", {class: "heard"}, `heard: “${heard}”`));
  }
  if (message.content === "file") body.push(el("div", {class: "kind"}, "document"));
  if (message.content === "location" && message.location) {
    const loc = message.location;
    body.push(el("div", {class: "location"}, `Location ${loc.Latitude}, ${loc.Longitude}`));
    if (loc.Label) body.push(el("div", {}, loc.Label));
  }
  if (message.text) body.push(el("div", {class: "text"}, message.text));
  const delivered = message.steps.find((s) => s.name === "delivered");
  const ticks = delivered && delivered.reached ? " ✓✓" : "";
  body.push(el("div", {class: "meta"}, short(message.sent_at) + ticks));
  return el("div", {class: "row out", "data-sid": message.id},
    trail(message), el("div", {class: "bubble out"}, body));
}

function incomingBubble(reply) {
  // A long answer goes as several messages: each bubble says which part of how many it is.
  const parts = reply.answers ? [...state.replies.values()].filter((r) => r.answers === reply.answers).length : 1;
  const meta = [reply.at ? short(reply.at) : "", parts > 1 ? `part ${reply.part + 1} of ${parts}` : ""]
    .filter(Boolean).join(" · ");
  return el("div", {class: "row in", "data-reply": reply.id, "data-answers": reply.answers},
    el("div", {class: "bubble in"}, el("div", {class: "text"}, reply.body), el("div", {class: "meta"}, meta)));
}

function renderUsers() {
  const list = $("users");
  list.replaceChildren(...[...state.users.values()].map((user) => {
    const last = conversation(user.id).at(-1);
    const preview = last ? (last.m ? (last.m.text || last.m.content) : last.r.body) : user.number;
    const item = el("li", {class: user.id === state.active ? "active" : "", "data-user": user.id},
      el("div", {class: "name"}, user.name), el("div", {class: "preview"}, preview));
    item.addEventListener("click", () => { state.active = user.id; state.stick = true; render(); });
    return item;
  }));
}

function renderChat() {
  const user = state.users.get(state.active);
  $("chat-name").textContent = user ? user.name : "";
  $("chat-number").textContent = user ? user.number : "";
  $("chat-avatar").textContent = user ? user.name.slice(0, 1).toUpperCase() : "";
  const pane = $("messages");
  pane.replaceChildren(...(user ? conversation(user.id) : []).map((e) => e.m ? outgoingBubble(e.m)
    : incomingBubble(e.r)));
  stickToBottom();
  // A photo grows its bubble once loaded: follow it down unless the reader scrolled up.
  pane.querySelectorAll("img").forEach((img) => img.addEventListener("load", stickToBottom));
}

function stickToBottom() {
  if (state.stick) $("messages").scrollTop = $("messages").scrollHeight;
}

function render() {
  if (!state.users.has(state.active)) state.active = state.users.keys().next().value || null;
  renderUsers();
  renderChat();
  show("trouble", state.status);
}

function show(id, text) {
  $(id).hidden = !text;
  $(id).textContent = text || "";
}
const notice = (text) => show("notice", text);

async function post(url, form) {
  const answer = await fetch(url, {method: "POST", body: form});
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) notice(data.error || `${url} answered ${answer.status}`);
  else notice(null);
  return data;
}

function send(kind, fields = {}, file = null) {
  const form = new FormData();
  form.append("user", state.active);
  form.append("kind", kind);
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  if (file) form.append("file", file);
  return post("/api/messages", form);
}

function wire() {
  $("messages").addEventListener("scroll", () => {
    const pane = $("messages");
    state.stick = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 40;
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (!text) return;
    $("text").value = "";
    send("text", {text});
  });
  for (const [id, kind] of [["photo-input", "photo"], ["voice-input", "voice"], ["file-input", "file"]]) {
    $(id).addEventListener("change", () => {
      const file = $(id).files[0];
      if (!file) return;
      const caption = kind === "voice" ? "" : $("text").value.trim();  // a voice note carries no text
      send(kind, {text: caption}, file).then((data) => {
        if (data.sid && kind !== "voice") $("text").value = "";
      }).finally(() => { $(id).value = ""; });
    });
  }
  $("location-open").addEventListener("click", () => { $("location-form").hidden = false; });
  $("location-cancel").addEventListener("click", () => { $("location-form").hidden = true; });
  $("location-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData($("location-form"));
    send("location", Object.fromEntries(form.entries())).then((data) => {
      if (data.sid) { $("location-form").reset(); $("location-form").hidden = true; }  // else fix and resend
    });
  });
  $("add-user").addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = await post("/api/users", new FormData($("add-user")));
    if (data.id) { state.active = data.id; $("add-user").reset(); }
  });
}

function listen() {
  const events = new EventSource("/api/events");
  const live = $("live");
  events.onopen = () => { live.dataset.state = "live"; live.textContent = "live"; };
  events.onerror = () => { live.dataset.state = "down"; live.textContent = "reconnecting…"; };
  events.onmessage = (event) => {
    const data = JSON.parse(event.data);
    if (state.run !== null && data.run !== state.run) reset();  // the server restarted: start afresh
    state.run = data.run;
    data.items.forEach(upsert);
    render();
  };
}

async function configure() {
  const config = await (await fetch("/api/config")).json();
  if (config.bot) $("bot-number").textContent = config.bot;
  if (config.flower_url) $("flower-link").href = config.flower_url;
}

wire();
configure();
listen();
