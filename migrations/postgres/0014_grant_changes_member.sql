-- Issue 17: a grant change names the one member it concerns, when it concerns one member only
-- (their roles, group places or direct project roles), so every process updates that member in
-- its authorization index instead of reloading the whole organization. NULL: the organization
-- as a whole (projects, groups' projects, custom roles, the organization itself).
ALTER TABLE grant_changes ADD COLUMN user_id UUID;
