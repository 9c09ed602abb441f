"""Read operations of PrimeHub's contract: deployments, availability and ``me``.

Everything is answered from the watch caches; a list is one pass over the cached views in
list order, then one page of them becomes GraphQL objects.
"""

from __future__ import annotations

import strawberry

from gateway import scopes
from gateway.kube.phdeployments import PhDeployment as DeploymentView
from schema import listing, permissions
from schema.context import Context, Info
from schema.errors import NotAuth, deployment_not_found
from schema.inputs import PhDeploymentWhereInput, PhDeploymentWhereUniqueInput
from schema.types import PageInfo, PhDeployment, PhDeploymentConnection, PhDeploymentEdge, User
from schema.validation import ID_PATTERN


def visible_deployment(context: Context, deployment_id: str) -> DeploymentView:
    """The cached deployment, if the caller may see it (not found before not allowed, as
    PrimeHub answers)."""
    principal = permissions.caller(context)
    found = context.services.store.deployments.get(deployment_id)
    if found is None:
        raise deployment_not_found(deployment_id)
    if not principal.admin and found.spec.group_id not in permissions.groups_of(context,
                                                                                 principal):
        raise NotAuth()
    return found


def present(context: Context, view: DeploymentView) -> PhDeployment:
    return PhDeployment.from_view(view, public_url=context.services.settings.public_url)


def deployment_filter(context: Context, where: PhDeploymentWhereInput | None) -> listing.Filter:
    """What ``where`` selects among the deployments the caller may see."""
    principal = permissions.caller(context)
    where = where or PhDeploymentWhereInput()
    return listing.Filter(
        id=where.id,
        group_ids=listing.allowed_groups(where.group_id_in,
                                         permissions.visible_groups(context, principal)),
        name_contains=where.name_contains, search=where.search,
        user_id=principal.username if where.mine else None)


def _selected(context: Context, where: PhDeploymentWhereInput | None) -> list[DeploymentView]:
    return listing.select(context.services.store.deployments_in_order(),
                          deployment_filter(context, where))


def _page(rows: list[DeploymentView], first: int | None, last: int | None,
          before: str | None, after: str | None) -> listing.Page:
    return listing.paginate(rows, first=first, last=last, before=before, after=after)


@strawberry.type
class DeploymentQueries:
    @strawberry.field
    def ph_deployment(self, info: Info, where: PhDeploymentWhereUniqueInput) -> PhDeployment:
        return present(info.context, visible_deployment(info.context, where.id))

    @strawberry.field
    def ph_deployment_avail(self, info: Info, where: PhDeploymentWhereUniqueInput) -> bool:
        permissions.caller(info.context)
        return bool(ID_PATTERN.fullmatch(where.id)) and \
            where.id not in info.context.services.store.deployments

    @strawberry.field
    def ph_deployments(self, info: Info, where: PhDeploymentWhereInput | None = None,
                       before: str | None = None, after: str | None = None,
                       first: int | None = None,
                       last: int | None = None) -> list[PhDeployment | None]:
        page = _page(_selected(info.context, where), first, last, before, after)
        return [present(info.context, view) for view in page.rows]

    @strawberry.field
    def ph_deployments_connection(self, info: Info, where: PhDeploymentWhereInput | None = None,
                                  before: str | None = None, after: str | None = None,
                                  first: int | None = None,
                                  last: int | None = None) -> PhDeploymentConnection:
        page = _page(_selected(info.context, where), first, last, before, after)
        return PhDeploymentConnection(
            edges=[PhDeploymentEdge(node=present(info.context, view), cursor=view.name)
                   for view in page.rows],
            page_info=PageInfo(
                has_next_page=page.has_next, has_previous_page=page.has_previous,
                start_cursor=page.rows[0].name if page.rows else None,
                end_cursor=page.rows[-1].name if page.rows else None,
                current_page=page.current_page, total_page=page.total_pages))

    @strawberry.field
    def me(self, info: Info) -> User:
        principal = permissions.caller(info.context)
        return User(id=strawberry.ID(principal.username), username=principal.username,
                    is_admin=principal.admin,
                    group_names=permissions.visible_groups(info.context, principal),
                    scopes=scopes.listed(principal.granted), api_token_id=principal.token_id)
