-- "The roles of member (org, user)" is read on every organization-scoped request, by member
-- listings and by the authorization index's load; the partial indexes of 0001 serve none of it.
CREATE INDEX member_roles_member_idx ON member_roles (org_id, user_id);
