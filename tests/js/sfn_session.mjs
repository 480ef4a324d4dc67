// Step Functions' core calls through the AWS SDK for JavaScript v3, unchanged but for the
// endpoint (and disableHostPrefix: StartSyncExecution is modelled on the "sync-" host,
// which does not resolve for a local endpoint). Prints one JSON object of what it saw;
// tests/integration/gateway/test_stepfunctions.py starts the server and checks it.
//
//   EP_ENDPOINT=http://127.0.0.1:4566 EP_RUN=abc EP_ROLE=arn:aws:iam::1:role/r node sfn_session.mjs
import {
  SFNClient, CreateStateMachineCommand, StartExecutionCommand, DescribeExecutionCommand,
  GetExecutionHistoryCommand, DescribeStateMachineCommand, StartSyncExecutionCommand,
  DeleteStateMachineCommand,
} from "@aws-sdk/client-sfn";

const config = {
  endpoint: process.env.EP_ENDPOINT,
  region: process.env.EP_REGION ?? "us-east-1",
  credentials: {
    accessKeyId: process.env.EP_KEY ?? "test",
    secretAccessKey: process.env.EP_SECRET ?? "test",
  },
  maxAttempts: 1,
  disableHostPrefix: true,
};
const run = process.env.EP_RUN;
const role = process.env.EP_ROLE ?? "arn:aws:iam::000000000000:role/sfn";
const sfn = new SFNClient(config);
const seen = {};

async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (err) {
    return { name: err.name, status: err.$metadata?.httpStatusCode };
  }
}

const definition = (type) => JSON.stringify({
  StartAt: "P",
  States: { P: { Type: "Pass", Result: { ok: 1, from: "node" }, End: true } },
  Comment: type,
});

const created = await sfn.send(new CreateStateMachineCommand({
  name: `js-sm-${run}`, definition: definition("standard"), roleArn: role,
}));
seen.stateMachineArn = created.stateMachineArn;
const started = await sfn.send(new StartExecutionCommand({
  stateMachineArn: created.stateMachineArn, input: JSON.stringify({ n: 1 }),
}));
seen.startDateIsDate = started.startDate instanceof Date;
let described;
const deadline = Date.now() + 60000;
do {
  described = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
  if (described.status !== "RUNNING") break;
  await new Promise((resolve) => setTimeout(resolve, 200));
} while (Date.now() < deadline);
seen.status = described.status;
seen.output = described.output;
const history = await sfn.send(new GetExecutionHistoryCommand({
  executionArn: started.executionArn,
}));
seen.historyTypes = history.events.map((e) => e.type);
seen.missing = await errorOf(sfn.send(new DescribeStateMachineCommand({
  stateMachineArn: created.stateMachineArn + "-missing",
})));

const express = await sfn.send(new CreateStateMachineCommand({
  name: `js-sm-express-${run}`, definition: definition("express"), roleArn: role, type: "EXPRESS",
}));
const sync = await sfn.send(new StartSyncExecutionCommand({
  stateMachineArn: express.stateMachineArn, input: "{}",
}));
seen.sync = { status: sync.status, output: sync.output };

await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: created.stateMachineArn }));
await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: express.stateMachineArn }));
console.log(JSON.stringify(seen));
