// Newswire sandbox page: chat with the bot as a user and watch its channels.
// Everything is built with DOM calls and textContent: message text is never parsed as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const state = {
    seq: 0,
    userId: Number(new URLSearchParams(location.search).get("user")) ||
      Number(localStorage.getItem("sandbox-user")) || 1001,
    bot: null,
    chats: new Map(),        // chat id -> chat
    messages: new Map(),     // "chat:id" -> message view
    channelFilter: "all",
  };

  // ---------------------------------------------------------------- HTTP helpers

  async function api(path, body) {
    const init = body === undefined ? {} : {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    };
    const response = await fetch(path, init);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  // ---------------------------------------------------------------- rich text from entities

  const SAFE_LINK = /^(https?:|tg:|ton:)/i;

  function elementFor(entity, text) {
    let el;
    switch (entity.type) {
      case "bold": el = document.createElement("strong"); break;
      case "italic": el = document.createElement("em"); break;
      case "underline": el = document.createElement("u"); break;
      case "strikethrough": el = document.createElement("s"); break;
      case "spoiler":
        el = document.createElement("span");
        el.className = "spoiler";
        el.title = "Click to reveal";
        el.addEventListener("click", () => el.classList.add("revealed"));
        break;
      case "code": el = document.createElement("code"); break;
      case "pre": {
        el = document.createElement("pre");
        if (entity.language) el.dataset.language = entity.language;
        break;
      }
      case "text_link": {
        el = document.createElement("a");
        if (SAFE_LINK.test(entity.url || "")) el.href = entity.url;
        el.target = "_blank";
        el.rel = "noopener noreferrer";
        break;
      }
      case "text_mention": el = document.createElement("span"); el.className = "mention"; break;
      case "blockquote": el = document.createElement("blockquote"); break;
      case "expandable_blockquote":
        el = document.createElement("blockquote");
        el.className = "expandable";
        el.addEventListener("click", () => el.classList.toggle("open"));
        break;
      case "bot_command": {
        el = document.createElement("span");
        el.className = "command";
        el.addEventListener("click", () => sendText(text));
        break;
      }
      default: el = document.createElement("span"); el.className = "entity-" + entity.type;
    }
    return el;
  }

  // Entities nest (Telegram guarantees it); build the tree recursively over UTF-16 offsets,
  // which are exactly JavaScript string indices.
  function buildRich(text, entities, start, end) {
    const fragment = document.createDocumentFragment();
    let pos = start;
    let i = 0;
    while (i < entities.length) {
      const entity = entities[i];
      const eStart = Math.max(entity.offset, pos);
      const eEnd = Math.min(entity.offset + entity.length, end);
      let j = i + 1;
      while (j < entities.length && entities[j].offset < entity.offset + entity.length) j++;
      if (eEnd > eStart) {
        if (eStart > pos) fragment.append(text.slice(pos, eStart));
        const el = elementFor(entity, text.slice(eStart, eEnd));
        el.append(buildRich(text, entities.slice(i + 1, j), eStart, eEnd));
        fragment.append(el);
        pos = eEnd;
      }
      i = j;
    }
    if (end > pos) fragment.append(text.slice(pos, end));
    return fragment;
  }

  function richText(text, entities) {
    const sorted = (entities || []).slice().sort((a, b) =>
      a.offset - b.offset || b.length - a.length);
    const div = document.createElement("div");
    div.className = "text";
    div.append(buildRich(text || "", sorted, 0, (text || "").length));
    return div;
  }

  // ---------------------------------------------------------------- message rendering

  function timeOf(unix) {
    const d = new Date(unix * 1000);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function deepLinkPayload(url) {
    const name = state.bot && state.bot.username;
    if (!name) return null;
    const match = /^https:\/\/t\.me\/([A-Za-z0-9_]+)\?start=([A-Za-z0-9_-]{1,64})$/.exec(url || "");
    return match && match[1].toLowerCase() === name.toLowerCase() ? match[2] : null;
  }

  function keyboard(message) {
    const rows = (message.reply_markup && message.reply_markup.inline_keyboard) || [];
    if (!rows.length) return null;
    const kb = document.createElement("div");
    kb.className = "kb";
    for (const row of rows) {
      const rowEl = document.createElement("div");
      rowEl.className = "kb-row";
      for (const button of row) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = button.text;
        if (button.callback_data !== undefined) {
          b.dataset.callbackData = button.callback_data;
          b.addEventListener("click", () => press(message, button.callback_data, b));
        } else if (button.url !== undefined) {
          b.classList.add("link");
          b.title = button.url;
          b.addEventListener("click", () => {
            // A deep link into this bot (t.me/<bot>?start=...) opens here, as Telegram would.
            const start = deepLinkPayload(button.url);
            if (start !== null) sendText("/start " + start);
            else if (SAFE_LINK.test(button.url)) window.open(button.url, "_blank", "noopener");
          });
        } else {
          b.disabled = true;
        }
        rowEl.append(b);
      }
      kb.append(rowEl);
    }
    return kb;
  }

  function renderMessage(message) {
    const el = document.createElement("div");
    el.className = "msg " + (message.from_bot ? "bot" : "user");
    el.dataset.chatId = message.chat_id;
    el.dataset.messageId = message.message_id;
    el.id = `msg-${message.chat_id}-${message.message_id}`;
    // Forum posts: General (no message_thread_id) is topic 1, as Telegram numbers it.
    el.dataset.threadId = String(message.message_thread_id || 1);
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    if (message.via_bot) {
      const via = document.createElement("div");
      via.className = "via";
      via.textContent = "via @" + message.via_bot;
      bubble.append(via);
    }
    if (message.photo) {
      const figure = document.createElement("div");
      figure.className = "photo";
      const img = document.createElement("img");
      img.alt = "photo";
      img.loading = "lazy";
      img.src = message.photo === "uploaded"
        ? `/control/file/${encodeURIComponent(message.photo_file_id)}`
        : (SAFE_LINK.test(message.photo) ? message.photo : "");
      // Offline the picture may not load; show a tidy placeholder instead of a broken icon.
      img.addEventListener("error", () => { figure.classList.add("missing"); img.remove(); });
      figure.append(img);
      bubble.append(figure);
    }
    if (message.text) bubble.append(richText(message.text, message.entities));
    const meta = document.createElement("div");
    meta.className = "meta";
    const topic = topicName(message);
    if (topic) meta.append(label("topic", "# " + topic, "Forum topic"));
    if (message.silent) meta.append(label("silent", "🔕 silent", "Sent without notification"));
    if (message.protected) {
      meta.append(label("protected", "🔒 protected", "Forwarding and saving are off"));
    }
    meta.append((message.edited ? "edited " : "") + timeOf(message.date));
    bubble.append(meta);
    el.append(bubble);
    const kb = keyboard(message);
    if (kb) el.append(kb);
    return el;
  }

  function topicName(message) {
    const chat = state.chats.get(message.chat_id);
    if (!chat || !chat.is_forum || !message.message_thread_id) return null;
    const topic = (chat.topics || []).find(
      (t) => t.message_thread_id === message.message_thread_id);
    return topic ? topic.name : String(message.message_thread_id);
  }

  function label(kind, text, title) {
    const span = document.createElement("span");
    span.className = `flag ${kind}`;
    span.textContent = text;
    span.title = title;
    return span;
  }

  function nearBottom(log) {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  // Insert or replace in place, keeping message_id order within the container.
  function place(container, message) {
    const fresh = renderMessage(message);
    const existing = container.querySelector(`#msg-${message.chat_id}-${message.message_id}`);
    if (existing) { existing.replaceWith(fresh); return; }
    const after = [...container.querySelectorAll(".msg")].find(
      (m) => Number(m.dataset.messageId) > message.message_id);
    container.insertBefore(fresh, after || null);
  }

  function showMessage(message) {
    state.messages.set(`${message.chat_id}:${message.message_id}`, message);
    if (message.chat_id === state.userId) {
      const log = $("chat");
      const stick = nearBottom(log);
      $("chat-empty")?.remove();
      place(log, message);
      if (stick || !message.from_bot) log.scrollTop = log.scrollHeight;
      updateReplyKeyboard();
      return;
    }
    const chat = state.chats.get(message.chat_id);
    if (chat && chat.type !== "private") {
      const section = channelSection(chat);
      const log = $("channels");
      const stick = nearBottom(log);
      place(section.querySelector(".posts"), message);
      applyTopic(section);
      if (chat.pinned_message_id === message.message_id) showPinned(chat);
      if (stick) log.scrollTop = log.scrollHeight;
    }
  }

  function removeMessage(chatId, messageId) {
    state.messages.delete(`${chatId}:${messageId}`);
    document.getElementById(`msg-${chatId}-${messageId}`)?.remove();
    if (chatId === state.userId) updateReplyKeyboard();
    const chat = state.chats.get(chatId);
    if (chat && chat.pinned_message_id === messageId) showPinned(chat);
  }

  function updateReplyKeyboard() {
    const box = $("reply-keyboard");
    const mine = [...state.messages.values()]
      .filter((m) => m.chat_id === state.userId && m.from_bot && m.reply_markup &&
        !m.reply_markup.inline_keyboard)
      .sort((a, b) => a.message_id - b.message_id);
    const last = mine[mine.length - 1];
    box.replaceChildren();
    if (!last || !last.reply_markup.keyboard) { box.hidden = true; return; }
    for (const row of last.reply_markup.keyboard) {
      const rowEl = document.createElement("div");
      rowEl.className = "kb-row";
      for (const button of row) {
        const label = typeof button === "string" ? button : button.text;
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = label;
        b.addEventListener("click", () => sendText(label));
        rowEl.append(b);
      }
      box.append(rowEl);
    }
    box.hidden = false;
  }

  // ---------------------------------------------------------------- channels

  function channelSection(chat) {
    let section = document.getElementById(`channel-${chat.id}`);
    if (section) return section;
    $("no-channels")?.remove();
    section = document.createElement("section");
    section.className = "channel";
    section.id = `channel-${chat.id}`;
    section.dataset.chatId = chat.id;
    const head = document.createElement("h2");
    head.textContent = chat.title || chat.username || String(chat.id);
    if (chat.username) {
      const handle = document.createElement("span");
      handle.className = "handle";
      handle.textContent = "@" + chat.username;
      head.append(" ", handle);
    }
    // The pinned post shows on top of the chat, as in Telegram's pinned bar.
    const pinned = document.createElement("div");
    pinned.className = "pinned-bar";
    pinned.hidden = true;
    const topics = document.createElement("nav");
    topics.className = "topic-tabs tabs";
    topics.setAttribute("role", "tablist");
    topics.hidden = true;
    section.dataset.topic = "all";
    const posts = document.createElement("div");
    posts.className = "posts";
    section.append(head, pinned, topics, posts);
    $("channels").append(section);
    addTab(chat);
    applyFilter();
    return section;
  }

  // Topics and the pinned post change after a chat first appears: redraw them from `chat`.
  function decorate(chat) {
    const section = channelSection(chat);
    showTopics(section, chat);
    showPinned(chat);
  }

  function showTopics(section, chat) {
    const nav = section.querySelector(".topic-tabs");
    if (!chat.is_forum) { nav.hidden = true; return; }
    const wanted = [["all", "All topics"], ["1", "General"]].concat(
      (chat.topics || []).map((t) => [String(t.message_thread_id), "# " + t.name]));
    const have = [...nav.children].map((b) => b.dataset.topic + "|" + b.textContent).join(",");
    if (have !== wanted.map(([id, name]) => id + "|" + name).join(",")) {
      nav.replaceChildren(...wanted.map(([id, name]) => {
        const b = document.createElement("button");
        b.type = "button";
        b.setAttribute("role", "tab");
        b.dataset.topic = id;
        b.textContent = name;
        b.addEventListener("click", () => { section.dataset.topic = id; applyTopic(section); });
        return b;
      }));
    }
    nav.hidden = false;
    applyTopic(section);
  }

  function applyTopic(section) {
    const topic = section.dataset.topic || "all";
    for (const tab of section.querySelectorAll(".topic-tabs button")) {
      tab.classList.toggle("active", tab.dataset.topic === topic);
    }
    for (const msg of section.querySelectorAll(".posts .msg")) {
      msg.hidden = topic !== "all" && msg.dataset.threadId !== topic;
    }
  }

  function showPinned(chat) {
    const section = document.getElementById(`channel-${chat.id}`);
    if (!section) return;
    const bar = section.querySelector(".pinned-bar");
    const id = chat.pinned_message_id;
    for (const msg of section.querySelectorAll(".posts .msg")) {
      msg.classList.toggle("pinned", Number(msg.dataset.messageId) === id);
    }
    if (!id) { bar.hidden = true; bar.replaceChildren(); return; }
    const message = state.messages.get(`${chat.id}:${id}`);
    const title = document.createElement("div");
    title.className = "pinned-title";
    title.textContent = "📌 Pinned message";
    const text = document.createElement("div");
    text.className = "pinned-text";
    text.textContent = message ? (message.text || "photo") : `#${id}`;
    bar.replaceChildren(title, text);
    bar.dataset.messageId = String(id);
    bar.onclick = () => document.getElementById(`msg-${chat.id}-${id}`)?.scrollIntoView(
      { block: "center" });
    bar.hidden = false;
  }

  function addTab(chat) {
    const tabs = $("channel-tabs");
    if (!tabs.querySelector('[data-chat-id="all"]')) tabs.append(tabButton("all", "All"));
    tabs.append(tabButton(String(chat.id), chat.title || chat.username || String(chat.id)));
  }

  function tabButton(id, label) {
    const b = document.createElement("button");
    b.type = "button";
    b.setAttribute("role", "tab");
    b.dataset.chatId = id;
    b.textContent = label;
    b.addEventListener("click", () => { state.channelFilter = id; applyFilter(); });
    return b;
  }

  function applyFilter() {
    for (const tab of $("channel-tabs").children) {
      tab.classList.toggle("active", tab.dataset.chatId === state.channelFilter);
    }
    for (const section of $("channels").querySelectorAll(".channel")) {
      section.hidden = state.channelFilter !== "all" &&
        section.dataset.chatId !== state.channelFilter;
    }
  }

  async function loadChat(chatId) {
    const data = await api(`/control/messages?chat_id=${encodeURIComponent(chatId)}`);
    for (const message of data.messages) showMessage(message);
  }

  function learnChats(chats) {
    for (const chat of chats) {
      const known = state.chats.has(chat.id);
      state.chats.set(chat.id, chat);
      if (chat.type === "private") continue;
      decorate(chat);
      if (!known) loadChat(chat.id).catch(() => {});
    }
  }

  // ---------------------------------------------------------------- actions

  function toast(text, alert) {
    const el = $("toast");
    el.textContent = text;
    el.classList.toggle("alert", Boolean(alert));
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { el.hidden = true; }, alert ? 5000 : 2500);
  }

  async function sendText(text) {
    const clean = text.trim();
    if (!clean) return;
    try {
      const message = await api("/control/send", { user_id: state.userId, text: clean });
      showMessage(message);
    } catch (error) {
      toast("Not sent: " + error.message, true);
    }
  }

  async function press(message, data, button) {
    button.classList.add("pressed");
    try {
      await api("/control/press", {
        user_id: state.userId, chat_id: message.chat_id,
        message_id: message.message_id, callback_data: data,
      });
    } catch (error) {
      toast(error.message, true);
    } finally {
      setTimeout(() => button.classList.remove("pressed"), 400);
    }
  }

  // ---------------------------------------------------------------- the reader's language and zone

  const READER_LANGUAGES = new Set(["en", "zh", "ms", "ta"]);
  const shortLanguage = (code) => String(code || "en").toLowerCase().split(/[-_]/)[0];

  // The reader switches their Telegram app language and tells the bot, as a reader would.
  async function chooseLanguage(code) {
    try {
      await api("/control/users/language", { user_id: state.userId, language_code: code });
    } catch (error) {
      toast(error.message, true);
      return;
    }
    await sendText(`/language ${code}`);
  }

  async function chooseZone(zone) {
    if (zone) localStorage.setItem(`sandbox-zone-${state.userId}`, zone);
    else localStorage.removeItem(`sandbox-zone-${state.userId}`);
    // Telegram does not know a user's zone: the reader tells the bot.
    if (zone) await sendText(`/timezone ${zone}`);
  }

  async function switchUser(id) {
    if (!Number.isInteger(id) || id <= 0) { toast("A user id is a positive number", true); return; }
    state.userId = id;
    hideInline();
    localStorage.setItem("sandbox-user", String(id));
    $("user-id").value = String(id);
    const known = await api("/control/state");
    let user = known.users.find((u) => u.id === id);
    if (!user) {
      // A new user's Telegram app speaks the language chosen on the page.
      user = await api("/control/users", {
        id, first_name: id === 1001 ? "Reader" : `User ${id}`,
        language_code: $("reader-language").value,
      });
    }
    $("reader-language").value = READER_LANGUAGES.has(shortLanguage(user.language_code))
      ? shortLanguage(user.language_code) : "en";
    $("reader-zone").value = localStorage.getItem(`sandbox-zone-${id}`) || "";
    $("chat-subtitle").textContent = `as ${user.first_name} (${id})`;
    $("user-avatar").textContent = (user.first_name || "?").slice(0, 1).toUpperCase();
    const log = $("chat");
    log.replaceChildren();
    const empty = document.createElement("p");
    empty.className = "empty";
    empty.id = "chat-empty";
    empty.textContent = "Say /start to the bot.";
    log.append(empty);
    await loadChat(id);
    updateReplyKeyboard();
  }

  // ---------------------------------------------------------------- inline mode

  const inline = { token: 0, timer: null, query: null };
  const WEB_LINK = /^https?:/i;

  // The words after "@<this bot> " in the composer (an inline query), or null.
  function inlineQueryText(text) {
    const name = state.bot && state.bot.username;
    const match = /^@([A-Za-z0-9_]{3,32})\s([\s\S]*)$/.exec(text);
    if (!name || !match || match[1].toLowerCase() !== name.toLowerCase()) return null;
    return match[2].slice(0, 256);
  }

  function hideInline() {
    inline.token++;  // answers still on their way are dropped
    inline.query = null;
    clearTimeout(inline.timer);
    const box = $("inline-results");
    box.replaceChildren();
    box.hidden = true;
  }

  function onComposerInput() {
    const query = inlineQueryText($("composer").value);
    if (query === null) { hideInline(); return; }
    if (query === inline.query) return;
    clearTimeout(inline.timer);
    // As Telegram's apps do: ask when typing pauses, not at every keystroke.
    inline.timer = setTimeout(() => askInline(query, "", false), 250);
  }

  async function askInline(query, offset, append) {
    const token = ++inline.token;
    inline.query = query;
    try {
      const asked = await api("/control/inline", { user_id: state.userId, query, offset });
      const id = asked.inline_query_id;
      const answer = await api(
        `/control/inline/answer?inline_query_id=${encodeURIComponent(id)}&timeout=10`);
      if (token === inline.token) showInline(id, answer, append);
    } catch (error) {
      if (token === inline.token) toast(error.message, true);
    }
  }

  function inlineNote(text) {
    const note = document.createElement("p");
    note.className = "inline-note";
    note.textContent = text;
    return note;
  }

  function showInline(queryId, answer, append) {
    const box = $("inline-results");
    if (!append) box.replaceChildren();
    box.querySelector(".inline-more")?.remove();
    if (!answer.answered) box.append(inlineNote("The bot did not answer."));
    else if (!answer.results.length && !append) box.append(inlineNote("No results."));
    for (const result of answer.results || []) box.append(inlineItem(queryId, result));
    if (answer.next_offset) {
      const more = document.createElement("button");
      more.type = "button";
      more.className = "inline-more";
      more.textContent = "More results";
      more.addEventListener("click", () => askInline(inline.query, answer.next_offset, true));
      box.append(more);
    }
    box.hidden = false;
  }

  function inlineItem(queryId, result) {
    const item = document.createElement("button");
    item.type = "button";
    item.className = "inline-result";
    item.setAttribute("role", "option");
    item.dataset.resultId = result.id;
    const title = result.title || result.type;
    let thumb;
    if (result.thumbnail_url && WEB_LINK.test(result.thumbnail_url)) {
      thumb = document.createElement("img");
      thumb.alt = "";
      thumb.loading = "lazy";
      thumb.src = result.thumbnail_url;
    } else {
      thumb = document.createElement("span");
      thumb.className = "thumb";
      thumb.textContent = title.slice(0, 1).toUpperCase();
    }
    const lines = document.createElement("span");
    lines.className = "lines";
    const head = document.createElement("div");
    head.className = "title";
    head.textContent = title;
    const description = document.createElement("div");
    description.className = "description";
    description.textContent = result.description || "";
    lines.append(head, description);
    item.append(thumb, lines);
    item.addEventListener("click", () => chooseInline(queryId, result.id));
    return item;
  }

  async function chooseInline(queryId, resultId) {
    try {
      const message = await api("/control/inline/choose",
        { inline_query_id: queryId, result_id: resultId });
      $("composer").value = "";
      hideInline();
      showMessage(message);
    } catch (error) {
      toast("Not sent: " + error.message, true);
    }
  }

  // ---------------------------------------------------------------- live updates

  async function follow() {
    for (;;) {
      try {
        const data = await api(`/control/changes?since=${state.seq}&timeout=25`);
        $("status").textContent = state.bot ? `online · @${state.bot.username}` : "online";
        learnChats(data.chats);
        for (const message of data.messages) showMessage(message);
        for (const gone of data.deleted) removeMessage(gone.chat_id, gone.message_id);
        for (const answer of data.callback_answers) {
          if (answer.user_id === state.userId && answer.text) toast(answer.text, answer.show_alert);
        }
        state.seq = data.seq;
      } catch (error) {
        $("status").textContent = "offline · retrying…";
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
    }
  }

  async function start() {
    $("composer-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = $("composer");
      const text = input.value;
      input.value = "";
      hideInline();
      sendText(text);
      input.focus();
    });
    $("composer").addEventListener("input", onComposerInput);
    $("composer").addEventListener("keydown", (event) => {
      if (event.key === "Escape") hideInline();
    });
    $("user-form").addEventListener("submit", (event) => {
      event.preventDefault();
      switchUser(Number($("user-id").value)).catch((e) => toast(e.message, true));
    });
    $("reader-prefs").addEventListener("submit", (event) => event.preventDefault());
    $("reader-language").addEventListener("change", (event) => chooseLanguage(event.target.value));
    $("reader-zone").addEventListener("change", (event) => chooseZone(event.target.value));
    for (;;) {
      try {
        const initial = await api("/control/state");
        state.bot = initial.bot;
        state.seq = initial.seq;
        $("bot-name").textContent = initial.bot.first_name;
        $("status").textContent = `online · @${initial.bot.username}`;
        document.title = `${initial.bot.first_name} · sandbox`;
        learnChats(initial.chats);
        await switchUser(state.userId);
        break;
      } catch (error) {
        $("status").textContent = "waiting for the sandbox…";
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
    }
    follow();
  }

  start();
})();
