// Lambda's core calls through the AWS SDK for JavaScript v3 (REST-JSON), unchanged but
// for the endpoint. Prints one JSON object of what it saw; test_lambda.py checks it.
//
//   EP_ENDPOINT=http://127.0.0.1:4566 EP_ZIP=fn.zip EP_ROLE=arn:... EP_RUN=abc node lambda_session.mjs
import { readFileSync } from "node:fs";
import {
  LambdaClient, CreateFunctionCommand, GetFunctionCommand, InvokeCommand,
  PublishVersionCommand, CreateAliasCommand, DeleteFunctionCommand,
} from "@aws-sdk/client-lambda";

const lambda = new LambdaClient({
  endpoint: process.env.EP_ENDPOINT,
  region: process.env.EP_REGION ?? "us-east-1",
  credentials: {
    accessKeyId: process.env.EP_KEY ?? "test",
    secretAccessKey: process.env.EP_SECRET ?? "test",
  },
  maxAttempts: 1,
});
const name = `js-fn-${process.env.EP_RUN}`;
const seen = {};
const text = (bytes) => new TextDecoder().decode(bytes);

async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (err) {
    return { name: err.name, status: err.$metadata?.httpStatusCode };
  }
}

const created = await lambda.send(new CreateFunctionCommand({
  FunctionName: name, Runtime: "python3.12", Role: process.env.EP_ROLE, Handler: "app.echo",
  Code: { ZipFile: readFileSync(process.env.EP_ZIP) },
}));
seen.created = created.FunctionName;
seen.state = (await lambda.send(new GetFunctionCommand({ FunctionName: name }))).Configuration.State;
const echoed = await lambda.send(new InvokeCommand({
  FunctionName: name, Payload: new TextEncoder().encode(JSON.stringify({ from: "node" })),
  LogType: "Tail",
}));
seen.status = echoed.StatusCode;
seen.echo = JSON.parse(text(echoed.Payload)).event;
seen.logHasCall = Buffer.from(echoed.LogResult ?? "", "base64").toString().includes("echo called");
const version = (await lambda.send(new PublishVersionCommand({ FunctionName: name }))).Version;
await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: "live", FunctionVersion: version }));
const viaAlias = await lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: "live" }));
seen.aliasVersion = viaAlias.ExecutedVersion;
const queued = await lambda.send(new InvokeCommand({ FunctionName: name, InvocationType: "Event" }));
seen.eventStatus = queued.StatusCode;
seen.missing = await errorOf(lambda.send(new GetFunctionCommand({ FunctionName: `${name}-none` })));
await lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
console.log(JSON.stringify(seen));
