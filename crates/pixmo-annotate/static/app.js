// pixmo annotate: the pages' behaviour. Plain JavaScript for current Chromium and Firefox.
// All user text is put in the page with textContent (never innerHTML).
"use strict";

(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);

  async function api(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      // Lets the last autosave finish when the tab is closed (bodies stay under 64 KiB).
      keepalive: url.endsWith("/work"),
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (_) {
      // Not JSON (a proxy error page): keep the status text.
    }
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  function status(text, bad) {
    const s = $("status");
    if (!s) return;
    s.textContent = text;
    s.className = bad ? "error" : "";
  }

  // Every change is sent to the server (debounced, in order, retried on the next change).
  function makeSaver(taskId, getWork) {
    let timer = null;
    let chain = Promise.resolve();
    let pending = false;
    function send() {
      timer = null;
      if (!pending) return chain;
      pending = false;
      const work = JSON.parse(JSON.stringify(getWork()));
      chain = chain
        .then(() => api("POST", `/api/tasks/${taskId}/work`, { work }))
        .then((r) => status(`Task ${taskId}: saved (${r.saves})`))
        .catch((e) => {
          pending = true;
          status(`Task ${taskId}: not saved: ${e.message}`, true);
        });
      return chain;
    }
    // Leaving the page (tab closed, switched away): send what the debounce still holds.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") send();
    });
    window.addEventListener("pagehide", () => send());
    return {
      change() {
        pending = true;
        clearTimeout(timer);
        timer = setTimeout(send, 200);
      },
      flush() {
        clearTimeout(timer);
        return send();
      },
    };
  }

  const isTyping = (target) =>
    target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA") && target.type !== "checkbox";

  function emptyEntry(mode) {
    return { label: "", points: [], not_present: false, collection_method: mode };
  }

  async function pointsPage() {
    const claimed = await api("POST", "/api/claim", { kind: "points" });
    if (!claimed.task) {
      status("No Points task is open. Thank you!");
      document.body.dataset.ready = "empty";
      return;
    }
    const task = claimed.task;
    const work = { entries: [], current: emptyEntry(task.mode) };
    if (Array.isArray(task.work.entries)) work.entries = task.work.entries;
    if (task.work.current) work.current = Object.assign(emptyEntry(task.mode), task.work.current);
    if (!work.current.collection_method) work.current.collection_method = task.mode;
    const saver = makeSaver(task.id, () => work);
    const img = $("image");
    const label = $("label");

    function render() {
      const marks = $("marks");
      marks.replaceChildren();
      work.current.points.forEach((p, i) => {
        const m = document.createElement("div");
        m.className = "mark";
        m.style.left = `${(100 * p.x) / task.image.width}%`;
        m.style.top = `${(100 * p.y) / task.image.height}%`;
        m.textContent = String(i + 1);
        marks.appendChild(m);
      });
      $("count").textContent = String(work.current.points.length);
      label.value = work.current.label;
      $("not-present").checked = work.current.not_present;
      $("counting").checked = work.current.collection_method === "counting";
      const list = $("entries");
      list.replaceChildren();
      for (const e of work.entries) {
        const li = document.createElement("li");
        const what = e.not_present ? "not present" : `${e.points.length} point(s), ${e.collection_method}`;
        li.textContent = `${e.label}: ${what}`;
        list.appendChild(li);
      }
    }

    function changed() {
      render();
      saver.change();
    }

    img.addEventListener("click", (ev) => {
      const rect = img.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) return;
      // Displayed coordinates to the image's natural pixels.
      const clamp = (v, max) => Math.min(max, Math.max(0, v));
      const x = clamp(((ev.clientX - rect.left) * task.image.width) / rect.width, task.image.width);
      const y = clamp(((ev.clientY - rect.top) * task.image.height) / rect.height, task.image.height);
      work.current.points.push({ x: Math.round(x * 10) / 10, y: Math.round(y * 10) / 10 });
      work.current.not_present = false;
      changed();
    });
    label.addEventListener("input", () => {
      work.current.label = label.value;
      saver.change();
    });
    $("not-present").addEventListener("change", (ev) => setNotPresent(ev.target.checked));
    $("counting").addEventListener("change", (ev) => {
      work.current.collection_method = ev.target.checked ? "counting" : "pointing";
      changed();
    });

    function setNotPresent(on) {
      work.current.not_present = on;
      if (on) work.current.points = [];
      changed();
    }

    function accept() {
      const c = work.current;
      if (!c.label.trim()) return status("Type the referring expression first", true);
      if (!c.not_present && c.points.length === 0) {
        return status("Click every instance, or mark it not present (n)", true);
      }
      work.entries.push(c);
      work.current = emptyEntry(task.mode);
      changed();
      label.focus();
    }

    async function submit() {
      if (work.current.label.trim()) accept();
      if (work.current.label.trim()) return;
      if (work.entries.length === 0) return status("Accept at least one label first", true);
      await saver.flush();
      try {
        await api("POST", `/api/tasks/${task.id}/submit`, { work });
        status(`Task ${task.id} submitted`);
        window.location.reload();
      } catch (e) {
        status(`Not submitted: ${e.message}`, true);
      }
    }

    $("accept").addEventListener("click", accept);
    $("submit").addEventListener("click", submit);
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && ev.shiftKey) {
        ev.preventDefault();
        submit();
      } else if (ev.key === "Enter") {
        ev.preventDefault();
        accept();
      } else if (ev.key === "Escape") {
        if (document.activeElement) document.activeElement.blur();
      } else if (isTyping(ev.target) || ev.ctrlKey || ev.metaKey || ev.altKey) {
        // Keys typed into the expression stay there.
      } else if (ev.key === "z" || ev.key === "Backspace") {
        ev.preventDefault();
        work.current.points.pop();
        changed();
      } else if (ev.key === "n") {
        setNotPresent(!work.current.not_present);
      } else if (ev.key === "c") {
        work.current.collection_method = work.current.collection_method === "counting" ? "pointing" : "counting";
        changed();
      }
    });

    img.addEventListener("load", () => {
      $("task").hidden = false;
      status(`Task ${task.id} loaded (${task.mode})`);
      document.body.dataset.ready = String(task.id);
    });
    img.src = task.image.url;
    render();
  }

  async function askPage() {
    const claimed = await api("POST", "/api/claim", { kind: "ask_model_anything" });
    if (!claimed.task) {
      status("No question task is open. Thank you!");
      document.body.dataset.ready = "empty";
      return;
    }
    let task = claimed.task;
    const work = { question: task.work.question || "" };
    const saver = makeSaver(task.id, () => work);
    const question = $("question");
    const feedback = $("feedback");
    question.value = work.question;

    function renderTurns() {
      const list = $("turns");
      list.replaceChildren();
      for (const t of task.turns) {
        const li = document.createElement("li");
        li.className = `turn ${t.kind}`;
        const who = document.createElement("strong");
        who.textContent = t.model ? `${t.kind} (${t.model}, ${t.ms} ms): ` : `${t.kind}: `;
        const text = document.createElement("span");
        text.textContent = t.text;
        li.append(who, text);
        list.appendChild(li);
      }
    }

    const latestAnswer = () =>
      [...task.turns].reverse().find((t) => t.kind === "draft" || t.kind === "revision");

    async function run(what, body) {
      status(`Waiting for the model…`);
      try {
        task = await api("POST", `/api/tasks/${task.id}/${what}`, body);
        renderTurns();
        status(`Task ${task.id}: answer received`);
        return true;
      } catch (e) {
        status(e.message, true);
        return false;
      }
    }

    async function ask() {
      await saver.flush();
      await run("draft", { question: question.value });
    }

    async function revise() {
      if (await run("feedback", { feedback: feedback.value })) feedback.value = "";
    }

    async function accept() {
      const answer = latestAnswer();
      if (!answer) return status("Ask the model first", true);
      try {
        await api("POST", `/api/tasks/${task.id}/accept`, { seq: answer.seq });
        status(`Task ${task.id} submitted`);
        window.location.reload();
      } catch (e) {
        status(`Not accepted: ${e.message}`, true);
      }
    }

    question.addEventListener("input", () => {
      work.question = question.value;
      saver.change();
    });
    $("ask").addEventListener("click", ask);
    $("revise").addEventListener("click", revise);
    $("accept").addEventListener("click", accept);
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        if (ev.target === feedback) revise();
        else ask();
      } else if (ev.altKey && ev.key === "a") {
        ev.preventDefault();
        accept();
      }
    });

    const img = $("image");
    img.addEventListener("load", () => {
      $("task").hidden = false;
      status(`Task ${task.id} loaded`);
      document.body.dataset.ready = String(task.id);
    });
    img.src = task.image.url;
    renderTurns();
  }

  // Point explanations: mark and name the places first, then ask; answers must cite them.
  function sendBackText(reason) {
    if (!reason) return "";
    switch (reason.kind) {
      case "empty":
        return "the answer is empty";
      case "no_point_cited":
        return "it cites none of the marked places";
      case "unknown_group":
        return `it cites group ${reason.group}, which was not marked`;
      case "point_not_given":
        return `it cites a point at (${reason.x}, ${reason.y}) that was not marked`;
      case "malformed":
        return `its point tags are malformed: ${reason.detail}`;
      default:
        return reason.kind;
    }
  }

  async function explainPage() {
    const claimed = await api("POST", "/api/claim", { kind: "point_explanations" });
    if (!claimed.task) {
      status("No point-explanation task is open. Thank you!");
      document.body.dataset.ready = "empty";
      return;
    }
    let task = claimed.task;
    const emptyGroup = () => ({ label: "", points: [] });
    const work = { question: "", groups: [], current: emptyGroup() };
    function load(saved) {
      work.question = saved.question || "";
      work.groups = Array.isArray(saved.groups) ? saved.groups : [];
      work.current = Object.assign(emptyGroup(), saved.current || {});
    }
    load(task.work);
    const saver = makeSaver(task.id, () => work);
    const img = $("image");
    const question = $("question");
    const label = $("label");
    const feedback = $("feedback");

    function mark(p, text, className) {
      const m = document.createElement("div");
      m.className = className;
      m.style.left = `${(100 * p.x) / task.image.width}%`;
      m.style.top = `${(100 * p.y) / task.image.height}%`;
      m.textContent = text;
      $("marks").appendChild(m);
    }

    function render() {
      $("marks").replaceChildren();
      work.groups.forEach((g, i) => g.points.forEach((p) => mark(p, String(i + 1), `mark g${i % 6}`)));
      const next = String(work.groups.length + 1);
      work.current.points.forEach((p) => mark(p, next, "mark current"));
      $("count").textContent = String(work.current.points.length);
      question.value = work.question;
      label.value = work.current.label;
      const list = $("groups");
      list.replaceChildren();
      for (const g of work.groups) {
        const li = document.createElement("li");
        li.textContent = `${g.label}: ${g.points.length} point(s)`;
        list.appendChild(li);
      }
    }

    function renderTurns() {
      const list = $("turns");
      list.replaceChildren();
      for (const t of task.turns) {
        const li = document.createElement("li");
        li.className = `turn ${t.kind}`;
        const who = document.createElement("strong");
        const name = t.kind === "send_back" ? "sent back automatically" : t.kind.replace("_", " ");
        who.textContent = t.model ? `${name} (${t.model}, ${t.ms} ms): ` : `${name}: `;
        const text = document.createElement("span");
        const detail = t.detail || {};
        if (detail.explanation && t.kind !== "question") {
          // The answer with each citation marked in its group's colour.
          const e = detail.explanation;
          e.parsed_response.split("<|POINT|>").forEach((piece, i) => {
            if (i > 0) {
              const cite = document.createElement("mark");
              cite.className = `cite g${e.groups[i - 1] % 6}`;
              cite.textContent = e.inline_text[i - 1];
              const n = document.createElement("sup");
              n.textContent = String(e.groups[i - 1] + 1);
              text.append(cite, n);
            }
            text.append(document.createTextNode(piece));
          });
        } else {
          text.textContent = t.text;
        }
        li.append(who, text);
        if (detail.explanation) {
          const cites = document.createElement("div");
          cites.className = "cites";
          const e = detail.explanation;
          cites.textContent =
            "cites " + e.inline_text.map((words, i) => `“${words}” → group ${e.groups[i] + 1}`).join(", ");
          li.appendChild(cites);
        } else if (detail.send_back) {
          const why = document.createElement("div");
          why.className = "cites error";
          why.textContent = `sent back: ${sendBackText(detail.send_back)}`;
          li.appendChild(why);
        }
        list.appendChild(li);
      }
    }

    function changed() {
      render();
      saver.change();
    }

    img.addEventListener("click", (ev) => {
      const rect = img.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) return;
      const clamp = (v, max) => Math.min(max, Math.max(0, v));
      const x = clamp(((ev.clientX - rect.left) * task.image.width) / rect.width, task.image.width);
      const y = clamp(((ev.clientY - rect.top) * task.image.height) / rect.height, task.image.height);
      work.current.points.push({ x: Math.round(x * 10) / 10, y: Math.round(y * 10) / 10 });
      changed();
    });
    question.addEventListener("input", () => {
      work.question = question.value;
      saver.change();
    });
    label.addEventListener("input", () => {
      work.current.label = label.value;
      saver.change();
    });

    function addGroup() {
      const c = work.current;
      if (c.points.length === 0) return status("Click the places first", true);
      if (!c.label.trim()) return status("Say what the clicked points show", true);
      work.groups.push(c);
      work.current = emptyGroup();
      changed();
      label.focus();
    }

    const latestAnswer = () =>
      [...task.turns].reverse().find((t) => t.kind === "draft" || t.kind === "revision");

    async function run(url, body) {
      status("Waiting for the model…");
      try {
        task = await api("POST", url, body);
        load(task.work);
        render();
        renderTurns();
        const answer = latestAnswer();
        if (answer && answer.detail && answer.detail.send_back) {
          status("The answer still does not cite the marked places: give feedback or ask again", true);
        } else {
          status(`Task ${task.id}: answer received`);
        }
        return true;
      } catch (e) {
        status(e.message, true);
        return false;
      }
    }

    async function ask() {
      await saver.flush();
      await run(`/api/tasks/${task.id}/explain`, { work });
    }

    async function revise() {
      if (await run(`/api/tasks/${task.id}/feedback`, { feedback: feedback.value })) feedback.value = "";
    }

    async function accept() {
      const answer = latestAnswer();
      if (!answer) return status("Ask the model first", true);
      if (!answer.detail || !answer.detail.explanation) {
        return status("The latest answer does not cite the marked places; give feedback or ask again", true);
      }
      try {
        await api("POST", `/api/tasks/${task.id}/accept`, { seq: answer.seq });
        status(`Task ${task.id} submitted`);
        window.location.reload();
      } catch (e) {
        status(`Not accepted: ${e.message}`, true);
      }
    }

    $("add-group").addEventListener("click", addGroup);
    $("ask").addEventListener("click", ask);
    $("revise").addEventListener("click", revise);
    $("accept").addEventListener("click", accept);
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        if (ev.target === feedback) revise();
        else ask();
      } else if (ev.altKey && ev.key === "a") {
        ev.preventDefault();
        accept();
      } else if (ev.key === "Escape") {
        if (document.activeElement) document.activeElement.blur();
      } else if (ev.key === "Enter" && ev.target.tagName !== "TEXTAREA" && !ev.shiftKey) {
        ev.preventDefault();
        addGroup();
      } else if (isTyping(ev.target) || ev.ctrlKey || ev.metaKey || ev.altKey) {
        // Keys typed into a text field stay there.
      } else if (ev.key === "z" || ev.key === "Backspace") {
        ev.preventDefault();
        work.current.points.pop();
        changed();
      }
    });

    img.addEventListener("load", () => {
      $("task").hidden = false;
      status(`Task ${task.id} loaded`);
      document.body.dataset.ready = String(task.id);
    });
    img.src = task.image.url;
    render();
    renderTurns();
  }

  function start() {
    const logout = $("logout");
    if (logout) {
      logout.addEventListener("click", async () => {
        await api("POST", "/logout").catch(() => {});
        window.location.href = "/login";
      });
    }
    const page = document.body.dataset.page;
    const pages = { points: pointsPage, ask: askPage, explain: explainPage };
    const run = pages[page] || null;
    if (run) run().catch((e) => status(e.message, true));
  }

  start();
})();
