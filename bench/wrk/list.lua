-- GET /v1/bookings?limit=50 with a read token; the range covers the whole seeded store.
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer sk_test_demo_rw"
wrk.path = "/v1/bookings?limit=50&from=2027-01-01T00:00:00Z&to=2099-01-01T00:00:00Z"
