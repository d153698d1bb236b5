// A small LiteHQ Calendar client written only against the types `make sdk` generates from
// dist/openapi.json (openapi-typescript → build/sdk/typescript/litehq-calendar.d.ts).
// `tsc --noEmit --strict` must accept it (tests/sdk/test_typescript_types.py). The
// `@ts-expect-error` lines at the end prove the types are precise: were they `any`, tsc would
// reject those directives as unused.
import type { components, operations, paths, webhooks } from "@litehq/calendar-types";

type Schemas = components["schemas"];
export type Booking = Schemas["Booking"];
export type BookingList = Schemas["BookingList"];
export type ApiErrorBody = Schemas["Error"];
export type ListBookingsQuery = NonNullable<operations["listBookings"]["parameters"]["query"]>;
export type CreateBookingBody = paths["/v1/bookings"]["post"]["requestBody"]["content"]["application/json"];
export type UpdateBookingBody = operations["updateBooking"]["requestBody"]["content"]["application/json"];
export type CancelBookingBody = NonNullable<operations["cancelBooking"]["requestBody"]>["content"]["application/json"];
type Created = operations["createBooking"]["responses"][201]["content"]["application/json"];
type BookingCreatedDelivery = NonNullable<webhooks["booking.created"]["post"]["requestBody"]>["content"]["application/json"];

/** Every non-2xx answer, with the API's error envelope parsed. */
export class LiteHQError extends Error {
  constructor(
    readonly status: number,
    readonly detail: Schemas["ErrorDetail"],
  ) {
    super(`${detail.code} (${status}): ${detail.message} [request ${detail.request_id}]`);
  }

  /** 429 → how long to wait before the next request, as the docs ask. */
  get retryAfterMs(): number | undefined {
    return this.detail.retry_after_ms;
  }
}

type Query = Record<string, string | number | undefined>;

export class CalendarClient {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  private async call<T>(method: string, path: string, options: { query?: Query; body?: unknown; idempotencyKey?: string } = {}): Promise<T> {
    const url = new URL(path, this.baseUrl);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { Authorization: `Bearer ${this.apiKey}` };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (options.idempotencyKey !== undefined) headers["Idempotency-Key"] = options.idempotencyKey;
    const init: RequestInit = { method, headers };
    if (options.body !== undefined) init.body = JSON.stringify(options.body);
    const response = await fetch(url, init);
    if (!response.ok) {
      const body = (await response.json()) as ApiErrorBody;
      throw new LiteHQError(response.status, body.error);
    }
    return (await response.json()) as T;
  }

  listBookings(query: ListBookingsQuery = {}): Promise<BookingList> {
    return this.call<BookingList>("GET", "/v1/bookings", { query });
  }

  /** Every booking matching the filters, page by page along `next_cursor`. */
  async *allBookings(query: Omit<ListBookingsQuery, "cursor"> = {}): AsyncGenerator<Booking> {
    let cursor: string | null = null;
    do {
      const page: BookingList = await this.listBookings(cursor === null ? query : { ...query, cursor });
      yield* page.data;
      cursor = page.next_cursor;
    } while (cursor !== null);
  }

  createBooking(body: CreateBookingBody, idempotencyKey: string): Promise<Created> {
    return this.call<Created>("POST", "/v1/bookings", { body, idempotencyKey });
  }

  updateBooking(id: Booking["id"], body: UpdateBookingBody): Promise<Booking> {
    return this.call<Booking>("PATCH", `/v1/bookings/${encodeURIComponent(id)}`, { body });
  }

  cancelBooking(id: Booking["id"], body: CancelBookingBody = {}): Promise<Booking> {
    return this.call<Booking>("POST", `/v1/bookings/${encodeURIComponent(id)}/cancel`, { body });
  }
}

/** `booked_by` is a discriminated union on `type`: the compiler narrows each branch. */
export function bookerLabel(booking: Booking): string {
  const who = booking.booked_by;
  switch (who.type) {
    case "member":
      return who.company_id === null ? who.member_id : `${who.member_id} (${who.company_id})`;
    case "guest":
      return `${who.guest.name} <${who.guest.email}>`;
  }
}

/** What a webhook handler does per event type; `never` makes a forgotten type a compile error. */
export function describeEvent(event: Schemas["WebhookEvent"]): string {
  const booking = event.data.object;
  switch (event.type) {
    case "booking.created":
      return `${booking.id} holds its slot until ${booking.expires_at ?? "?"}`;
    case "booking.confirmed":
      return `${booking.id} paid ${booking.price.amount_minor} ${booking.price.currency}`;
    case "booking.updated":
      return `${booking.id} now ${booking.start_at}–${booking.end_at}`;
    case "booking.cancelled":
      return `${booking.id} cancelled, refund ${booking.cancellation?.refund?.amount.amount_minor ?? 0}`;
    case "booking.expired":
      return `${booking.id} expired unpaid`;
    case "booking.completed":
      return `${booking.id} completed`;
    case "booking.no_show":
      return `${booking.id} no-show at ${booking.no_show_at ?? "?"}`;
    default: {
      const unhandled: never = event.type;
      return unhandled;
    }
  }
}

export async function example(client: CalendarClient): Promise<Booking> {
  const created = await client.createBooking(
    {
      room_id: "rm_studio",
      start_at: "2026-05-23T14:00:00Z",
      end_at: "2026-05-23T15:30:00Z",
      booked_by: { member_id: "mem_alice" },
      notes: "Studio mic check 13:55",
      attendees: 4,
    },
    "0e8a-4d6f-bc14",
  );
  const delivery: BookingCreatedDelivery = { id: "evt_1", type: "booking.created", created_at: created.created_at, data: { object: created } };
  describeEvent(delivery);
  for await (const booking of client.allBookings({ status: "confirmed", limit: 100 })) {
    bookerLabel(booking);
  }
  await client.updateBooking(created.id, { end_at: "2026-05-23T16:00:00Z", attendees: 6 });
  try {
    return await client.cancelBooking(created.id, { reason: "member_requested", refund_policy: "full" });
  } catch (error) {
    if (error instanceof LiteHQError && error.detail.code === "booking_not_cancellable") return created;
    throw error;
  }
}

// ---- The types bite: each line below must be a compile error. ----------------------------------
// @ts-expect-error "paid" is not a BookingStatus
export const wrongStatus: Booking["status"] = "paid";
// @ts-expect-error limit is a number, not a string
export const wrongLimit: ListBookingsQuery = { limit: "100" };
// @ts-expect-error booked_by takes { member_id } or { guest: { email, name } }
export const wrongBooker: CreateBookingBody = { room_id: "rm_studio", start_at: "", end_at: "", booked_by: { email: "x@y.z" } };
// @ts-expect-error "everything" is not a refund policy
export const wrongRefund: CancelBookingBody = { refund_policy: "everything" };
// @ts-expect-error error codes are a closed set
export const wrongCode: Schemas["ErrorCode"] = "teapot";
// @ts-expect-error a guest booker carries no member_id
export const wrongGuest = (b: Schemas["BookedByGuest"]): string => b.member_id;
