//! `GET /orgs/{org}/audit` with bad filters, limits and cursors, including cursors of other
//! lists.

use crate::both_stores;
use crate::orgs::{bad_limits, garbage_cursors};
use crate::support::{Case, b64, enc, run_cases, world};

both_stores!(
    async fn the_audit_log_refuses_bad_filters_limits_and_cursors(app) {
        let w = world(&app).await;
        // Real cursors of other lists are not audit cursors.
        let orgs_cursor = app.get("/api/v1/orgs?limit=1", &w.owner.token).await.expect(200).body["next_cursor"]
            .as_str()
            .expect("orgs cursor")
            .to_owned();
        let members_cursor = app
            .get(&format!("/api/v1/orgs/{}/members?limit=1", w.acme.id), &w.owner.token)
            .await
            .expect(200)
            .body["next_cursor"]
            .as_str()
            .expect("members cursor")
            .to_owned();
        let audit_cursor = app
            .get(&format!("/api/v1/orgs/{}/audit?limit=1", w.acme.id), &w.owner.token)
            .await
            .expect(200)
            .body["next_cursor"]
            .as_str()
            .expect("audit cursor")
            .to_owned();
        let mut cases = Vec::new();
        for org in [&w.acme.id, &w.acme.slug] {
            let audit = |query: &str| Case::get(format!("/api/v1/orgs/{org}/audit?{query}"));
            for (limit, named) in bad_limits() {
                let c = audit(&format!("limit={limit}"));
                cases.push(if named { c.invalid("limit") } else { c.expect(400, "validation_failed") });
            }
            // `seq:5` is a well-formed audit cursor; everything else in the list is garbage here.
            let mut cursors: Vec<String> = garbage_cursors().into_iter().filter(|c| *c != b64("seq:5")).collect();
            cursors.extend([
                String::new(),
                enc("seq:5"),
                b64("seq:"),
                b64("seq:abc"),
                b64("seq:1.5"),
                b64("seq:99999999999999999999"),
                b64("SEQ:5"),
                b64(" seq:5"),
                orgs_cursor.clone(),
                members_cursor.clone(),
            ]);
            for cursor in cursors {
                cases.push(audit(&format!("cursor={cursor}")).invalid("cursor"));
            }
            // An email is a valid actor (issue 13); what is neither an id nor an email is not.
            for actor in ["not-a-uuid", "42", "", "%00", "ada@", "@example.com"] {
                cases.push(audit(&format!("actor={}", enc(actor))).invalid("actor"));
            }
            // `org.*` is a family and `plan.change` a former name: both valid.
            for action in ["nope", "ORG.CREATED", "org.created ", "nope.*", "org.", "*", "", "member"] {
                cases.push(audit(&format!("action={}", enc(action))).invalid("action"));
            }
            // A bare day (`2024-01-01`) is valid, from its start.
            for time in ["yesterday", "2024-13-01", "1700000000", "2024-13-01T00:00:00Z", "2024-01-01 00:00:00", ""] {
                cases.push(audit(&format!("since={}", enc(time))).invalid("since"));
                cases.push(audit(&format!("until={}", enc(time))).invalid("until"));
            }
            cases.push(audit("limit=10&limit=20").expect(400, "validation_failed"));
            cases.push(audit("action=org.created&action=member.added").expect(400, "validation_failed"));
        }
        run_cases(&app, Some(&w.owner.token), &w.watch(), &cases).await;
        // Well-formed filters and a real cursor work.
        let path = format!(
            "/api/v1/orgs/{}/audit?actor={}&action=org.created&since={}&until={}&limit=100",
            w.acme.id,
            w.owner.id,
            enc("2000-01-01T00:00:00Z"),
            enc("2999-01-01T00:00:00+02:00")
        );
        let found = app.get(&path, &w.owner.token).await.expect(200).body;
        assert_eq!(found["items"].as_array().expect("items").len(), 1, "{found:#}");
        app.get(&format!("/api/v1/orgs/{}/audit?limit=1&cursor={audit_cursor}", w.acme.id), &w.owner.token)
            .await
            .expect(200);
    }
);
