// The core calls of SQS, SNS and EventBridge through the AWS SDK for JavaScript v3,
// unchanged but for the endpoint. Prints one JSON object of what it saw; the pytest
// module tests/integration/gateway/test_js_sdk.py starts the server and checks it.
//
//   EP_ENDPOINT=http://127.0.0.1:4566 EP_RUN=abc node sdk_session.mjs
import {
  SQSClient, CreateQueueCommand, GetQueueUrlCommand, GetQueueAttributesCommand,
  SendMessageCommand, SendMessageBatchCommand, ReceiveMessageCommand,
  DeleteMessageBatchCommand, DeleteQueueCommand,
} from "@aws-sdk/client-sqs";
import {
  SNSClient, CreateTopicCommand, SubscribeCommand, PublishCommand, ListTopicsCommand,
  GetTopicAttributesCommand, DeleteTopicCommand,
} from "@aws-sdk/client-sns";
import {
  EventBridgeClient, CreateEventBusCommand, PutRuleCommand, PutTargetsCommand,
  PutEventsCommand, DescribeRuleCommand, RemoveTargetsCommand, DeleteRuleCommand,
  DeleteEventBusCommand,
} from "@aws-sdk/client-eventbridge";

const config = {
  endpoint: process.env.EP_ENDPOINT,
  region: process.env.EP_REGION ?? "us-east-1",
  credentials: {
    accessKeyId: process.env.EP_KEY ?? "test",
    secretAccessKey: process.env.EP_SECRET ?? "test",
  },
  maxAttempts: 1,
};
const run = process.env.EP_RUN;
const sqs = new SQSClient(config);
const sns = new SNSClient(config);
const events = new EventBridgeClient(config);
const seen = {};

async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (err) {
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
}

async function drain(url, want) {
  const bodies = [];
  const deadline = Date.now() + 30000;
  while (bodies.length < want && Date.now() < deadline) {
    const got = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
      MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"],
    }));
    const messages = got.Messages ?? [];
    for (const m of messages) bodies.push(m);
    if (messages.length) {
      await sqs.send(new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }));
    }
  }
  return bodies;
}

// --- SQS -------------------------------------------------------------------------------
const { QueueUrl: url } = await sqs.send(new CreateQueueCommand({
  QueueName: `js-${run}`, Attributes: { VisibilityTimeout: "30" },
}));
seen.queueUrl = url;
seen.getQueueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: `js-${run}` }))).QueueUrl;
const sent = await sqs.send(new SendMessageCommand({
  QueueUrl: url, MessageBody: "héllo from node",
  MessageAttributes: { kind: { DataType: "String", StringValue: "greeting" } },
}));
seen.sendMd5 = sent.MD5OfMessageBody;
const batch = await sqs.send(new SendMessageBatchCommand({
  QueueUrl: url,
  Entries: [0, 1, 2].map((i) => ({ Id: `e${i}`, MessageBody: `batch-${i}` })),
}));
seen.batchSuccessful = (batch.Successful ?? []).map((s) => s.Id).sort();
const received = await drain(url, 4);
seen.received = received.map((m) => m.Body).sort();
const greeting = received.find((m) => m.Body === "héllo from node");
seen.greetingAttribute = greeting?.MessageAttributes?.kind?.StringValue ?? null;
seen.receiveCount = greeting?.Attributes?.ApproximateReceiveCount ?? null;
seen.arn = (await sqs.send(new GetQueueAttributesCommand({
  QueueUrl: url, AttributeNames: ["QueueArn"],
}))).Attributes.QueueArn;
seen.missingQueue = await errorOf(sqs.send(new GetQueueUrlCommand({ QueueName: `js-none-${run}` })));
seen.badBatch = await errorOf(sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [] })));

// --- SNS -------------------------------------------------------------------------------
const { TopicArn: topic } = await sns.send(new CreateTopicCommand({ Name: `js-${run}` }));
seen.topicArn = topic;
await sns.send(new SubscribeCommand({
  TopicArn: topic, Protocol: "sqs", Endpoint: seen.arn,
  Attributes: { RawMessageDelivery: "true" },
}));
seen.publishId = (await sns.send(new PublishCommand({ TopicArn: topic, Message: "via sns" }))).MessageId;
seen.fromTopic = (await drain(url, 1)).map((m) => m.Body);
seen.listed = (await sns.send(new ListTopicsCommand({}))).Topics.some((t) => t.TopicArn === topic);
seen.subscriptionsConfirmed = (await sns.send(new GetTopicAttributesCommand({ TopicArn: topic })))
  .Attributes.SubscriptionsConfirmed;
seen.missingTopic = await errorOf(sns.send(new PublishCommand({
  TopicArn: topic.replace(`js-${run}`, `js-none-${run}`), Message: "x",
})));

// --- EventBridge -----------------------------------------------------------------------
const bus = `js-${run}`;
seen.busArn = (await events.send(new CreateEventBusCommand({ Name: bus }))).EventBusArn;
await events.send(new PutRuleCommand({
  Name: "orders", EventBusName: bus,
  EventPattern: JSON.stringify({ source: ["js.shop"], detail: { total: [{ numeric: [">", 10] }] } }),
}));
await events.send(new PutTargetsCommand({
  Rule: "orders", EventBusName: bus, Targets: [{ Id: "q", Arn: seen.arn }],
}));
seen.ruleState = (await events.send(new DescribeRuleCommand({ Name: "orders", EventBusName: bus }))).State;
const put = await events.send(new PutEventsCommand({
  Entries: [5, 50].map((total) => ({
    EventBusName: bus, Source: "js.shop", DetailType: "order", Detail: JSON.stringify({ total }),
  })),
}));
seen.putFailed = put.FailedEntryCount;
seen.fromBus = (await drain(url, 1)).map((m) => JSON.parse(m.Body).detail.total);
seen.badPattern = await errorOf(events.send(new PutRuleCommand({
  Name: "bad", EventBusName: bus, EventPattern: "{not json",
})));
seen.missingRule = await errorOf(events.send(new DescribeRuleCommand({ Name: "none", EventBusName: bus })));

// --- clean up --------------------------------------------------------------------------
await events.send(new RemoveTargetsCommand({ Rule: "orders", EventBusName: bus, Ids: ["q"] }));
await events.send(new DeleteRuleCommand({ Name: "orders", EventBusName: bus }));
await events.send(new DeleteEventBusCommand({ Name: bus }));
await sns.send(new DeleteTopicCommand({ TopicArn: topic }));
await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
console.log(JSON.stringify(seen));
