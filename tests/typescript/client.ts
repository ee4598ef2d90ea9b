// A team's TypeScript client of the served several-features service, typed by its OpenAPI
// document (api.d.ts, from openapi-typescript) and calling it with openapi-fetch. It prints
// what the test checks: the category a product's page embeds, and the status of a refusal.
import createClient from "openapi-fetch";
import type { paths } from "./api.js";

const [baseUrl, token] = process.argv.slice(2);
const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });

async function main(): Promise<void> {
  const category = await client.POST("/catalog/categories", { body: { title: "Typed" } });
  if (category.data === undefined) throw new Error(`category: ${category.response.status}`);
  const body = { name: "Typed lamp", sku: "TS-1", price: "9.50", category: category.data.id };
  const product = await client.POST("/catalog/products", { body });
  if (product.data === undefined) throw new Error(`product: ${product.response.status}`);
  const productId = product.data.id;
  const query = { expand: ["category" as const], sort: "-created_at" as const, limit: 5 };
  const page = await client.GET("/catalog/products", { params: { query } });
  const listed = page.data?.items.find((item) => item.id === productId);
  // A page of no rows: the service refuses it, and the client reads the problem it sends.
  const refused = await client.GET("/catalog/products", { params: { query: { limit: 0 } } });
  console.log(
    JSON.stringify({
      embedded: listed?.expanded?.category?.title ?? null,
      refused: refused.error?.status ?? null,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
