// The npm `openai` SDK against the API: prints one JSON line of what it saw.
// Env: BASE_URL (the client's site, http://<slug>.localhost:<port>/v1), TOKEN,
// BAD_TOKEN, MODEL.
import http from "node:http";
import { Readable } from "node:stream";
import OpenAI from "openai";

// *.localhost names may be unknown to the system resolver (browsers resolve
// them to loopback themselves), and Node's fetch ignores a Host header: this
// fetch connects to 127.0.0.1 and names the client's host, as a browser does.
function loopbackFetch(url, init = {}) {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    headers.host = target.host;
    const request = http.request({
      hostname: "127.0.0.1", port: target.port, path: target.pathname + target.search,
      method: init.method || "GET", headers,
    }, (response) => {
      const received = new Headers();
      for (const [name, value] of Object.entries(response.headers)) {
        received.set(name, Array.isArray(value) ? value.join(", ") : value);
      }
      resolve(new Response(Readable.toWeb(response),
                           { status: response.statusCode, headers: received }));
    });
    request.on("error", reject);
    init.signal?.addEventListener("abort", () => request.destroy(new Error("aborted")));
    if (init.body) request.write(init.body);
    request.end();
  });
}

const make = (apiKey) => new OpenAI({
  baseURL: process.env.BASE_URL, apiKey, fetch: loopbackFetch, maxRetries: 0,
  timeout: 60000,
});
const client = make(process.env.TOKEN);
const model = process.env.MODEL;
const result = {};

result.models = (await client.models.list()).data.map((m) => m.id);
const answer = await client.chat.completions.create({
  model, messages: [{ role: "user", content: "Hello from JavaScript" }] });
result.text = answer.choices[0].message.content;
result.usage = answer.usage;

let streamed = "";
let chunks = 0;
const stream = await client.chat.completions.create({
  model, stream: true, messages: [{ role: "user", content: "Stream from JavaScript" }] });
for await (const chunk of stream) {
  const piece = chunk.choices[0]?.delta?.content ?? "";
  if (piece) chunks += 1;
  streamed += piece;
}
result.streamed = streamed;
result.chunks = chunks;

for (const [name, call] of [
  ["bad_token", () => make(process.env.BAD_TOKEN).chat.completions.create({
    model, messages: [{ role: "user", content: "x" }] })],
  ["tools", () => client.chat.completions.create({
    model, messages: [{ role: "user", content: "x" }],
    tools: [{ type: "function", function: { name: "f", parameters: {} } }] })],
]) {
  try {
    await call();
    result[name] = "no error";
  } catch (error) {
    result[name] = { class: error.constructor.name, status: error.status,
                     param: error.param ?? null };
  }
}
console.log(JSON.stringify(result));
