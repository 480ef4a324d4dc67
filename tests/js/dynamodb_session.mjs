// DynamoDB's core calls through the AWS SDK for JavaScript v3, unchanged but for the
// endpoint: create a table, put, get, query, a failing condition, a missing table.
// Prints one JSON object of what it saw; tests/integration/gateway/test_dynamodb.py
// starts the server and checks it.
//
//   EP_ENDPOINT=http://127.0.0.1:4566 EP_RUN=abc node dynamodb_session.mjs
import {
  DynamoDBClient, CreateTableCommand, DescribeTableCommand, PutItemCommand, GetItemCommand,
  QueryCommand, DeleteTableCommand,
} from "@aws-sdk/client-dynamodb";

const client = new DynamoDBClient({
  endpoint: process.env.EP_ENDPOINT,
  region: process.env.EP_REGION ?? "us-east-1",
  credentials: {
    accessKeyId: process.env.EP_KEY ?? "test",
    secretAccessKey: process.env.EP_SECRET ?? "test",
  },
  maxAttempts: 1,
});
const name = `js-${process.env.EP_RUN}`;
const seen = {};

async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (err) {
    return { name: err.name, status: err.$metadata?.httpStatusCode };
  }
}

const created = await client.send(new CreateTableCommand({
  TableName: name,
  KeySchema: [{ AttributeName: "id", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
  AttributeDefinitions: [
    { AttributeName: "id", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "N" },
  ],
  BillingMode: "PAY_PER_REQUEST",
}));
seen.created = created.TableDescription.TableName;
seen.status = (await client.send(new DescribeTableCommand({ TableName: name }))).Table.TableStatus;

for (const sk of ["3", "1", "2"]) {
  await client.send(new PutItemCommand({
    TableName: name,
    Item: { id: { S: "a" }, sk: { N: sk }, body: { S: sk === "1" ? "from node" : "more" } },
  }));
}
const got = await client.send(new GetItemCommand({
  TableName: name, Key: { id: { S: "a" }, sk: { N: "1" } }, ConsistentRead: true,
}));
seen.item = got.Item;
const queried = await client.send(new QueryCommand({
  TableName: name,
  KeyConditionExpression: "id = :id AND sk >= :low",
  ExpressionAttributeValues: { ":id": { S: "a" }, ":low": { N: "1" } },
}));
seen.queried = queried.Items.map((i) => i.sk.N);
seen.conditionFailed = await errorOf(client.send(new PutItemCommand({
  TableName: name,
  Item: { id: { S: "a" }, sk: { N: "1" } },
  ConditionExpression: "attribute_not_exists(id)",
})));
seen.missing = (await errorOf(client.send(new GetItemCommand({
  TableName: `${name}-missing`, Key: { id: { S: "a" } },
}))))?.name;
await client.send(new DeleteTableCommand({ TableName: name }));
console.log(JSON.stringify(seen));
