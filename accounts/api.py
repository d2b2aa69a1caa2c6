"""API of accounts: who am I, the directory of colleagues, and my notifications."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.response import Response

from accounts import selectors, services
from accounts.models import Notification, Team, User
from core.api import ERROR_RESPONSES
from core.filters import TrueOrFalseFilter


class TeamSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]


class UserSerializer(serializers.ModelSerializer):
    team = TeamSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role", "team", "phone"]
        read_only_fields = fields


class MeSerializer(UserSerializer):
    unread_notifications = serializers.SerializerMethodField()

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "preferred_language", "unread_notifications"]
        read_only_fields = fields

    def get_unread_notifications(self, user: User) -> int:
        return selectors.unread_notification_count(user=user)


class MeUpdateSerializer(serializers.Serializer):
    preferred_language = serializers.ChoiceField(choices=User._meta.get_field("preferred_language").choices)


@extend_schema(
    methods=["GET"],
    responses={200: MeSerializer, **ERROR_RESPONSES},
    summary="The signed-in user",
    description="Who the credentials belong to: role, team, language and the unread notification count.",
)
@extend_schema(
    methods=["PATCH"],
    request=MeUpdateSerializer,
    responses={200: MeSerializer, **ERROR_RESPONSES},
    summary="Change my preferences",
    description="Only the preferred language can be changed here; role and team are set by an administrator.",
)
@api_view(["GET", "PATCH"])
def me(request):
    if request.method == "PATCH":
        data = MeUpdateSerializer(data=request.data, partial=True)  # a PATCH: what is left out stays as it is
        data.is_valid(raise_exception=True)
        if "preferred_language" in data.validated_data:
            services.user_set_language(user=request.user, language=data.validated_data["preferred_language"])
    return Response(MeSerializer(request.user).data)


class UserFilter(django_filters.FilterSet):
    class Meta:
        model = User
        fields = ["role", "team"]


@extend_schema_view(
    list=extend_schema(summary="Colleagues", description="Active users, filterable by role and team."),
    retrieve=extend_schema(summary="One colleague", responses={200: UserSerializer, **ERROR_RESPONSES}),
)
class UserViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = UserSerializer
    filterset_class = UserFilter
    ordering_fields = ["full_name", "email", "role"]
    ordering = ["full_name"]

    def get_queryset(self):
        return selectors.user_directory(user=self.request.user)


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "level", "title", "body", "url", "created_at", "read_at"]
        read_only_fields = fields


class NotificationFilter(django_filters.FilterSet):
    unread = TrueOrFalseFilter(field_name="read_at", lookup_expr="isnull", label="Only unread")

    class Meta:
        model = Notification
        fields = ["level", "unread"]


@extend_schema_view(
    list=extend_schema(summary="My notifications", description="Newest first. `?unread=true` for unread only."),
    retrieve=extend_schema(summary="One notification", responses={200: NotificationSerializer, **ERROR_RESPONSES}),
    read=extend_schema(
        summary="Mark a notification read",
        request=None,
        responses={200: NotificationSerializer, **ERROR_RESPONSES},
    ),
)
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter

    def get_queryset(self):
        return selectors.notification_list(user=self.request.user)

    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = services.notification_mark_read(notification=self.get_object())
        return Response(NotificationSerializer(notification).data, status=status.HTTP_200_OK)
