/** A JSON POST to the server under test, as the bench makes them (login, registrations). */
export async function post(
  base: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: ((await response.json().catch(() => null)) ?? {}) as Record<string, unknown> };
}
