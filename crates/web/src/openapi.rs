//! The OpenAPI document for `/api/v1`, served at `/api/openapi.json`.

use serde_json::{json, Value};

/// (method, path, summary, tag, needs sign-in)
pub const OPERATIONS: &[(&str, &str, &str, &str)] = &[
    (
        "post",
        "/api/v1/session",
        "登录（JSON），返回用户信息和CSRF令牌",
        "会话",
    ),
    ("delete", "/api/v1/session", "退出登录", "会话"),
    ("get", "/api/v1/me", "当前用户和CSRF令牌", "会话"),
    (
        "get",
        "/api/v1/dashboard",
        "工作台统计（管辖范围内）",
        "工作台",
    ),
    (
        "get",
        "/api/v1/divisions",
        "区划：顶层、某区划的下级（parent）或搜索（q）",
        "行政区划",
    ),
    ("get", "/api/v1/divisions/stats", "各级区划数量", "行政区划"),
    ("get", "/api/v1/divisions/{code}", "一个区划", "行政区划"),
    (
        "get",
        "/api/v1/divisions/{code}/children",
        "某区划的直接下级",
        "行政区划",
    ),
    (
        "get",
        "/api/v1/offices",
        "民政办公室列表（within, q, limit, offset）",
        "民政办公室",
    ),
    (
        "get",
        "/api/v1/offices/{code}",
        "一个民政办公室",
        "民政办公室",
    ),
    (
        "patch",
        "/api/v1/offices/{code}",
        "修改联系电话和办公地址",
        "民政办公室",
    ),
    ("get", "/api/v1/users", "用户列表（市民政局管理员）", "用户"),
    (
        "post",
        "/api/v1/users",
        "新建用户（市民政局管理员）",
        "用户",
    ),
    ("get", "/api/v1/users/{id}", "一个用户", "用户"),
    (
        "patch",
        "/api/v1/users/{id}",
        "修改用户：姓名、停用、重置密码、解除锁定",
        "用户",
    ),
    (
        "get",
        "/api/v1/audit",
        "操作日志（市民政局管理员、审计人员）",
        "操作日志",
    ),
    (
        "get",
        "/api/v1/households",
        "家庭户列表（q 姓名/拼音/身份证号/后四位+姓名, village, registration_type, status, limit, offset）",
        "户籍台账",
    ),
    ("post", "/api/v1/households", "新增家庭户（含户主）", "户籍台账"),
    (
        "get",
        "/api/v1/households/{household_id}",
        "一户：成员、收入、财产",
        "户籍台账",
    ),
    (
        "patch",
        "/api/v1/households/{household_id}",
        "修改户信息",
        "户籍台账",
    ),
    (
        "get",
        "/api/v1/households/{household_id}/history",
        "一户的变更记录",
        "户籍台账",
    ),
    (
        "post",
        "/api/v1/households/{household_id}/members",
        "添加成员（已登记的人员迁入本户）",
        "户籍台账",
    ),
    (
        "post",
        "/api/v1/households/{household_id}/incomes",
        "登记收入（金额单位元）",
        "户籍台账",
    ),
    (
        "post",
        "/api/v1/households/{household_id}/assets",
        "登记财产（价值单位元）",
        "户籍台账",
    ),
    (
        "get",
        "/api/v1/persons",
        "查找人员（q：姓名、拼音、身份证号、后四位+姓名）",
        "户籍台账",
    ),
    (
        "patch",
        "/api/v1/persons/{person_id}",
        "修改成员信息",
        "户籍台账",
    ),
    (
        "post",
        "/api/v1/imports/households",
        "导入台账（multipart：file, valid_only, dry_run）；超过1万行时返回202和任务号",
        "户籍台账",
    ),
    ("get", "/api/v1/jobs", "本人最近的导入任务", "户籍台账"),
    ("get", "/api/v1/jobs/{job_id}", "导入任务进度和结果", "户籍台账"),
    (
        "get",
        "/api/v1/standards/rules",
        "规范化建设要求（规则清单：编号、条文、方案条款）",
        "规范化建设",
    ),
    (
        "get",
        "/api/v1/standards/offices",
        "各民政办公室规范化建设情况（within, status）",
        "规范化建设",
    ),
    (
        "get",
        "/api/v1/standards/offices/{code}",
        "一个民政办公室的规范化建设情况与逐条评估",
        "规范化建设",
    ),
    (
        "patch",
        "/api/v1/standards/offices/{code}/profile",
        "修改基本情况（人口、类型、联系人、宣传栏等）",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/offices/{code}/rooms",
        "登记用房（面积按平方米，最多两位小数）",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/offices/{code}/equipment",
        "登记设备",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/offices/{code}/posted-rules",
        "登记上墙公示的制度、流程",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/offices/{code}/investments",
        "登记建设投入",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/offices/{code}/plan",
        "报送建设方案",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/offices/{code}/plan/review",
        "审核建设方案（accept / return，市民政局）",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/offices/{code}/staff-changes",
        "报备人员异动",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/offices/{code}/inspections",
        "组织检查验收（市民政局）",
        "规范化建设",
    ),
    (
        "get",
        "/api/v1/standards/staff-changes",
        "待审批的人员异动",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/staff-changes/{id}/decision",
        "审批人员异动（approve / reject，市民政局）",
        "规范化建设",
    ),
    (
        "get",
        "/api/v1/standards/inspections/{id}",
        "一次检查验收及评分表",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/inspections/{id}/scores",
        "检查评分（市民政局）",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/inspections/{id}/rectifications",
        "添加整改事项（市民政局）",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/inspections/{id}/decision",
        "验收结论（pass / fail，市民政局）",
        "规范化建设",
    ),
    (
        "get",
        "/api/v1/standards/subsidies",
        "补助资金台账",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/subsidies/{id}/disbursement",
        "拨付补助（市民政局）",
        "规范化建设",
    ),
];

pub fn document() -> Value {
    let error = json!({
        "type": "object",
        "properties": {"error": {"type": "object", "properties": {
            "code": {"type": "string"},
            "message": {"type": "string", "description": "中文错误说明"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}}
        }, "required": ["code", "message", "fields"]}}
    });
    let mut paths = serde_json::Map::new();
    for (method, path, summary, tag) in OPERATIONS {
        let mut params = Vec::new();
        for name in ["code", "id", "household_id", "person_id", "job_id"] {
            if path.contains(&format!("{{{name}}}")) {
                params.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
            }
        }
        let mut op = json!({
            "summary": summary,
            "tags": [tag],
            "parameters": params,
            "responses": {
                "200": {"description": "成功"},
                "400": {"description": "请求有误", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "未登录", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "403": {"description": "无权操作或CSRF校验失败", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "404": {"description": "不存在或不在管辖范围内", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "422": {"description": "输入校验失败（fields 给出各字段的说明）", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        });
        if *method != "get" && *path != "/api/v1/session" {
            op["parameters"]
                .as_array_mut()
                .expect("parameters is an array")
                .push(json!({"name": "X-CSRF-Token", "in": "header", "required": true, "schema": {"type": "string"}}));
        }
        if matches!(*method, "post" | "patch") {
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}}}});
        }
        paths
            .entry(path.to_string())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("path item is an object")
            .insert(method.to_string(), op);
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "minzheng 民政业务管理系统 API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "schemas": {"Error": error},
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "mz_session"}}
        },
        "security": [{"session": []}]
    })
}
