// Listen to a Pulse exchange from a web page: STOMP over WebSocket to the broker's /ws.
// The client is the inspector's stomp.js, served by pulsed at /inspector/stomp.js.
import { StompClient, exchangeDestination, sameOriginWsUrl } from "/inspector/stomp.js";

const $ = (id) => document.getElementById(id);

$("form").onsubmit = async (ev) => {
  ev.preventDefault();
  const client = new StompClient(sameOriginWsUrl(), { // wss:// when the page is https
    login: $("user").value,
    passcode: $("password").value,
    host: "/", // the vhost
  });
  try {
    await client.connect();
  } catch (e) {
    $("status").textContent = "cannot connect: " + e.message;
    return;
  }
  $("status").textContent = "listening";
  // "/exchange/<name>/<pattern>": the broker makes a temporary queue bound with the pattern,
  // deleted when the page goes. A '/' in the exchange name is sent as %2F.
  client.subscribe(exchangeDestination($("exchange").value, $("pattern").value), {}, (msg) => {
    const envelope = msg.json() ?? {}; // Pulse's envelope: {payload, _meta}
    const li = document.createElement("li");
    li.textContent = `${envelope._meta?.routing_key ?? msg.headers.destination}  ` +
      JSON.stringify(envelope.payload ?? msg.body);
    $("messages").prepend(li);
  });
};
