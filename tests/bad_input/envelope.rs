//! The envelope of every route that takes a JSON body: malformed JSON, JSON of the wrong shape,
//! unknown and duplicate fields, non-JSON content types and oversized bodies. Each body is a
//! valid request spoilt in one way; at the end every valid request is sent as it should be and
//! succeeds, so each refusal was for the one thing spoilt.

use crate::both_stores;
use crate::common::{PASSWORD, TestApp, unique};
use crate::support::{BODY_LIMIT, Body, Case, World, chars, run_cases, send, world};
use reqwest::Method;
use serde_json::Value;

/// A route that takes a JSON body, as a template whose `@@` is a string's contents.
struct Route {
    method: Method,
    path: String,
    token: Option<String>,
    template: String,
    /// What `@@` holds in the valid request.
    fill: String,
    /// The status the valid request gets.
    ok: u16,
}

impl Route {
    fn new(
        method: Method,
        path: String,
        token: Option<&str>,
        template: &str,
        fill: &str,
        ok: u16,
    ) -> Self {
        assert!(template.contains("\"@@\""), "template needs a string slot");
        Route {
            method,
            path,
            token: token.map(str::to_owned),
            template: template.to_owned(),
            fill: fill.to_owned(),
            ok,
        }
    }

    fn text(&self, fill: &str) -> String {
        self.template.replace("@@", fill)
    }

    fn valid(&self) -> String {
        self.text(&self.fill)
    }

    /// The template with raw bytes in the string slot.
    fn with_bytes(&self, fill: &[u8]) -> Vec<u8> {
        let (head, tail) = self.template.split_once("@@").expect("slot");
        let mut out = head.as_bytes().to_vec();
        out.extend_from_slice(fill);
        out.extend_from_slice(tail.as_bytes());
        out
    }

    fn case(&self, what: &str, body: Body) -> Case {
        let c = Case::new(self.method.clone(), self.path.clone(), body).labelled(what);
        match &self.token {
            Some(t) => c.with_token(t),
            None => c,
        }
    }

    fn json(&self, what: &str, text: impl Into<Vec<u8>>) -> Case {
        self.case(what, Body::json_bytes(text))
    }

    fn typed(&self, what: &str, content_type: Option<&'static str>) -> Case {
        self.case(
            what,
            Body::Raw {
                content_type,
                bytes: self.valid().into_bytes(),
            },
        )
    }

    /// Every way to spoil this route's envelope.
    fn cases(&self) -> Vec<Case> {
        let valid = self.valid();
        let object: Value = serde_json::from_str(&valid).expect("the valid body is JSON");
        let first_key = object
            .as_object()
            .and_then(|o| o.keys().next().cloned())
            .expect("a field");
        let first_value = object[&first_key].to_string();
        let duplicated = format!("{{\"{first_key}\":{first_value},{}", &valid[1..]);
        let capitalised = valid.replacen(
            &format!("\"{first_key}\""),
            &format!("\"{}\"", first_key.to_uppercase()),
            1,
        );
        let extra = format!("{},\"extra\":true}}", &valid[..valid.len() - 1]);
        let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
        let malformed =
            |what: &str, text: Vec<u8>| self.json(what, text).expect(400, "malformed_json");
        let misshapen =
            |what: &str, text: &str| self.json(what, text).expect(400, "validation_failed");
        let media = |what: &str, ct: Option<&'static str>| {
            self.typed(what, ct).expect(415, "unsupported_media_type")
        };
        vec![
            malformed("truncated JSON", valid[..valid.len() - 1].into()),
            malformed("trailing garbage", format!("{valid}}}").into()),
            malformed("two documents", format!("{valid}{valid}").into()),
            malformed("empty body", Vec::new()),
            malformed("whitespace only", b" \n\t ".to_vec()),
            malformed("form data sent as JSON", b"name=x&roles=member".to_vec()),
            malformed("single quotes", valid.replace('"', "'").into()),
            malformed("a comment", format!("/* hi */{valid}").into()),
            malformed(
                "NaN for a string",
                self.template.replace("\"@@\"", "NaN").into(),
            ),
            malformed("invalid UTF-8 in a string", self.with_bytes(b"\xff\xfe")),
            malformed(
                "a raw control character in a string",
                self.with_bytes(b"a\x01b"),
            ),
            malformed("a lone surrogate escape", self.text("\\ud800").into()),
            misshapen("JSON null", "null"),
            misshapen("a JSON array", "[]"),
            misshapen("a JSON string", "\"hello\""),
            misshapen("a JSON number", "42"),
            misshapen("JSON true", "true"),
            misshapen("the object inside an array", &format!("[{valid}]")),
            misshapen("20,000 nested arrays", &deep),
            misshapen("an unknown field", &extra),
            misshapen("a duplicated field", &duplicated),
            misshapen("a field name in the wrong case", &capitalised),
            media("text/plain", Some("text/plain")),
            media(
                "a form content type",
                Some("application/x-www-form-urlencoded"),
            ),
            media("multipart", Some("multipart/form-data; boundary=x")),
            media("application/xml", Some("application/xml")),
            media("no content type", None),
            media("a content type that is not a media type", Some("json")),
            self.json("a body over 64 KiB", self.text(&chars('x', 70_000)))
                .expect(413, "payload_too_large"),
            self.case(
                "a chunked body over 64 KiB",
                Body::Chunked(self.text(&chars('x', 200_000)).into_bytes()),
            )
            .expect(413, "payload_too_large"),
        ]
    }
}

fn routes(w: &World) -> Vec<Route> {
    let owner = Some(w.owner.token.as_str());
    let acme = &w.acme;
    vec![
        Route::new(
            Method::POST,
            "/api/v1/users".into(),
            None,
            &format!(r#"{{"email":"newcomer@example.com","password":"{PASSWORD}","name":"@@"}}"#),
            "Newcomer",
            201,
        ),
        Route::new(
            Method::POST,
            "/api/v1/sessions".into(),
            None,
            &format!(r#"{{"email":"@@","password":"{PASSWORD}"}}"#),
            &w.owner.email,
            201,
        ),
        Route::new(
            Method::POST,
            "/api/v1/tokens".into(),
            owner,
            r#"{"name":"@@","permissions":["org.read"]}"#,
            "deploy",
            201,
        ),
        Route::new(
            Method::POST,
            "/api/v1/orgs".into(),
            owner,
            r#"{"name":"@@"}"#,
            &unique("Brand New Org "),
            201,
        ),
        Route::new(
            Method::PATCH,
            format!("/api/v1/orgs/{}", acme.id),
            owner,
            r#"{"name":"@@"}"#,
            &unique("Renamed Org "),
            200,
        ),
        Route::new(
            Method::POST,
            format!("/api/v1/orgs/{}/members", acme.slug),
            owner,
            &format!(r#"{{"email":"{}","roles":["@@"]}}"#, w.outsider.email),
            "member",
            201,
        ),
        Route::new(
            Method::PATCH,
            format!("/api/v1/orgs/{}/members/{}", acme.id, w.member.id),
            owner,
            r#"{"roles":["@@"]}"#,
            "manager",
            200,
        ),
        Route::new(
            Method::POST,
            format!("/api/v1/orgs/{}/roles", acme.id),
            owner,
            r#"{"name":"@@","permissions":["org.read"]}"#,
            "Viewer",
            201,
        ),
        Route::new(
            Method::PATCH,
            format!("/api/v1/orgs/{}/roles/Auditor", acme.slug),
            owner,
            r#"{"name":"@@"}"#,
            "Inspector",
            200,
        ),
    ]
}

/// Sends each route's valid request and checks it succeeds and is seen by the snapshot.
async fn valid_requests_succeed(app: &TestApp, w: &World, routes: &[Route]) {
    let watch = w.watch();
    let before = watch.snapshot(app).await;
    for r in routes {
        let resp = send(
            app,
            &r.method,
            &r.path,
            r.token.as_deref(),
            &Body::json_bytes(r.valid()),
        )
        .await;
        assert_eq!(
            resp.status, r.ok,
            "{} {}: the valid request should succeed: {:#}",
            r.method, r.path, resp.body
        );
    }
    let after = watch.snapshot(app).await;
    for key in ["orgs of Owen", "tokens of Owen", "orgs of Otto"] {
        assert_ne!(
            before[key], after[key],
            "the snapshot should see `{key}` change"
        );
    }
    let roles = format!("roles of {}", w.acme.name);
    assert_ne!(
        before[&roles], after[&roles],
        "the snapshot should see roles change"
    );
    for key in [
        format!("members of {}", w.acme.id),
        format!("audit of {}", w.acme.id),
    ] {
        assert_ne!(
            before[&key], after[&key],
            "the snapshot should see `{key}` change"
        );
    }
}

both_stores!(
    async fn every_json_route_refuses_a_spoilt_envelope_and_changes_nothing(app) {
        let w = world(&app).await;
        let routes = routes(&w);
        let cases: Vec<Case> = routes.iter().flat_map(Route::cases).collect();
        run_cases(&app, None, &w.watch(), &cases).await;
        // Each route's request was fine but for the one thing spoilt.
        valid_requests_succeed(&app, &w, &routes).await;
    }
);

both_stores!(
    async fn the_body_limit_is_exactly_64_kib(app) {
        let w = world(&app).await;
        // `{"name":"xxx…"}` of exactly the limit is read (and refused for its name); one byte
        // more is not read at all.
        let wrapper = r#"{"name":""}"#.len();
        let at_limit = format!(r#"{{"name":"{}"}}"#, chars('x', BODY_LIMIT - wrapper));
        let over = format!(r#"{{"name":"{}"}}"#, chars('x', BODY_LIMIT - wrapper + 1));
        assert_eq!((at_limit.len(), over.len()), (BODY_LIMIT, BODY_LIMIT + 1));
        let cases = [
            Case::new(Method::POST, "/api/v1/orgs", Body::json_bytes(at_limit.clone())).invalid("name"),
            Case::new(Method::POST, "/api/v1/orgs", Body::json_bytes(over.clone())).expect(413, "payload_too_large"),
            Case::new(Method::POST, "/api/v1/orgs", Body::Chunked(at_limit.into_bytes())).invalid("name"),
            Case::new(Method::POST, "/api/v1/orgs", Body::Chunked(over.into_bytes())).expect(413, "payload_too_large"),
        ];
        run_cases(&app, Some(&w.owner.token), &w.watch(), &cases).await;
    }
);
