"""The demo knowledge base (`kehu demo`): four categories, ~24 published articles (Chinese, a few in
English), some edited once (a version to compare) and voted on. Loaded once: nothing happens when
articles exist already."""

from django.db import transaction
from django.utils import timezone

from .models import Article, ArticleCategory, ArticleVote

CATEGORIES = [("产品使用", None), ("打印与外设", "产品使用"), ("CRM 软件", "产品使用"), ("网络与账号", None),
              ("订单与财务", None), ("售后服务", None)]

STEPS = "\n\n## 处理步骤\n\n1. {a}\n2. {b}\n3. {c}\n\n> 仍未解决时，请在工单中附上照片或截图，转二线支持。"
# title, category, tags, audience, summary, three steps
ARTICLES = [
    ("打印机卡纸怎么办", "打印与外设", ["打印机", "卡纸"], "shareable", "激光打印机 M2000 卡纸是最常见的报修原因。",
     ("关闭电源并拔掉电源线，等待定影器冷却 10 分钟", "打开后盖，双手均匀用力取出卡住的纸张，不要撕碎",
      "检查纸盒：纸张不超过最高线，使用 70g 以上复印纸")),
    ("打印机提示硒鼓寿命已尽", "打印与外设", ["打印机", "耗材"], "shareable", "提示出现后通常还能打印 100 页左右。",
     ("在面板菜单中查看硒鼓剩余量", "更换原装硒鼓 T12，取下保护条", "在菜单中重置硒鼓计数器")),
    ("打印出来的纸张有黑线", "打印与外设", ["打印机", "打印质量"], "shareable", "竖向黑线多为硒鼓或定影组件问题。",
     ("打印清洁页", "取出硒鼓，检查感光鼓表面有无划痕", "仍有黑线时更换硒鼓或预约上门检修")),
    ("无线键鼠没有反应", "打印与外设", ["键盘", "鼠标"], "shareable", "K780 套装使用同一个 USB 接收器。",
     ("更换电池或充电", "把接收器插到主机背面的 USB 口", "按住配对键 3 秒重新配对")),
    ("显示器没有信号", "打印与外设", ["显示器"], "shareable", "27 英寸 2K 显示器支持 HDMI 与 DP 输入。",
     ("检查线缆两端是否插紧", "在显示器菜单中切换输入源", "换一根线缆或接口测试")),
    ("会议摄像头画面模糊", "打印与外设", ["摄像头", "会议"], "shareable", "1080P 摄像头需要 USB 3.0 接口。",
     ("擦拭镜头", "在会议软件中选择 1080P 分辨率", "更新摄像头固件")),
    ("CRM 登录提示密码错误", "CRM 软件", ["登录", "密码"], "internal", "连续输错 5 次会锁定 15 分钟。",
     ("确认大小写与输入法", "等待锁定时间结束或请管理员解锁", "通过“忘记密码”重设")),
    ("如何导出客户列表", "CRM 软件", ["导出", "客户"], "shareable", "列表页的导出按钮按当前筛选条件导出。",
     ("在客户列表中设置筛选条件", "点击“导出”，选择 Excel 或 CSV", "超过 5000 行时在“我的导出”中下载")),
    ("客户转移给其他客户经理", "CRM 软件", ["客户", "转移"], "internal", "转移需要“分配”权限。",
     ("打开客户详情页", "点击“转移”，选择新的负责人", "联系人随客户一起转移，新负责人会收到通知")),
    ("公海客户的领取规则", "CRM 软件", ["公海", "客户"], "internal", "每人最多同时领取 50 个公海客户。",
     ("在客户列表切换到“公海”标签", "选择客户后点击“领取”", "超过 30 天未跟进的客户会自动退回公海")),
    ("移动端无法同步数据", "CRM 软件", ["移动端", "同步"], "shareable", "移动端模块需要单独授权。",
     ("确认账号已开通移动端模块", "检查手机网络并重新登录", "清除应用缓存后重试")),
    ("VPN 连接频繁断开", "网络与账号", ["VPN", "网络"], "internal", "公司 VPN 使用 UDP 4500 端口。",
     ("重新安装最新版 VPN 客户端", "检查本地防火墙是否放行 UDP 4500", "切换到有线网络测试")),
    ("无线 AP 覆盖不到会议室", "网络与账号", ["无线", "AP"], "shareable", "企业级 AP 单台建议覆盖 150 平方米。",
     ("在管理后台查看信号强度", "调整 AP 安装位置或加装一台", "把信道改为自动")),
    ("交换机端口指示灯不亮", "网络与账号", ["交换机", "网络"], "shareable", "24 口千兆交换机每个端口有独立指示灯。",
     ("更换网线测试", "确认对端设备已开机", "在后台查看端口是否被禁用")),
    ("增值税专用发票开错了怎么重开", "订单与财务", ["发票", "重开"], "internal", "当月开错的专票可作废后重开。",
     ("在订单的发票记录中申请作废", "财务作废原发票并收回纸质联", "按正确抬头和税号重新开具")),
    ("客户要求修改发票抬头", "订单与财务", ["发票", "抬头"], "internal", "抬头与税号必须与营业执照一致。",
     ("请客户提供营业执照与开票信息", "已开发票需先作废或红冲", "重新申请开票")),
    ("退货退款的办理流程", "订单与财务", ["退货", "退款"], "shareable", "签收 7 天内可无理由退货。",
     ("在订单的售后中登记退货申请", "仓库收货验收后入库", "财务按原路退款，最长 7 个工作日")),
    ("订单部分发货怎么处理", "订单与财务", ["订单", "发货"], "internal", "订单可以分多次发货。",
     ("在订单页点击“发货”，填写本次数量", "未发数量保留在订单中", "全部发完后订单自动变为已发货")),
    ("上门维保的预约方式", "售后服务", ["维保", "上门"], "shareable", "硬件维保客户享受 48 小时内上门。",
     ("确认客户在维保有效期内", "在工单中预约上门时间", "工程师完成后请客户签字确认")),
    ("客户投诉的处理时限", "售后服务", ["投诉", "时限"], "internal", "投诉须在 2 小时内首次响应，24 小时内给出方案。",
     ("登记投诉并指派处理人", "首次联系客户，确认诉求", "处理完成后回访满意度")),
    ("换货时的库存处理", "售后服务", ["换货", "库存"], "internal", "换货先退回旧件再发出新件。",
     ("登记换货申请", "旧件入库并检验", "从默认仓库发出新件")),
    ("How to reset a CRM password", "CRM 软件", ["password", "login"], "shareable",
     "Users can reset their own password from the login page.",
     ("Click “Forgot password” on the login page", "Open the link in the e-mail within 30 minutes",
      "Choose a new password of at least 10 characters")),
    ("VPN connection drops every few minutes", "网络与账号", ["VPN", "network"], "internal",
     "The company VPN uses UDP port 4500.",
     ("Install the latest VPN client", "Allow UDP 4500 through the local firewall", "Test on a wired network")),
    ("Printer paper jam", "打印与外设", ["printer", "paper jam"], "shareable",
     "Paper jams are the most frequent printer call.",
     ("Switch the printer off and let it cool down", "Open the rear cover and pull the paper out evenly",
      "Do not fill the tray above the line")),
]


def load(users: dict) -> int:
    """Create the demo knowledge base once; returns the number of articles made (0: already there)."""
    if Article.all_objects.exists():
        return 0
    author = users.get("service") or users.get("supervisor") or users.get("admin")
    editor = users.get("supervisor") or author
    readers = [u for u in users.values() if u is not None]
    now = timezone.now()
    with transaction.atomic():
        categories: dict[str, ArticleCategory] = {}
        for name, parent in CATEGORIES:
            category = ArticleCategory(name=name, parent=categories.get(parent), order=len(categories))
            category.save()
            categories[name] = category
        for n, (title, category, tags, audience, summary, (a, b, c)) in enumerate(ARTICLES):
            body = summary + STEPS.format(a=a, b=b, c=c)
            if title.isascii():
                body = body.replace("## 处理步骤", "## Steps").replace(
                    "> 仍未解决时，请在工单中附上照片或截图，转二线支持。",
                    "> Still not solved? Attach a photo or a screenshot to the ticket and escalate it.")
            article = Article(title=title, category=categories[category], body=body, audience=audience,
                              status=Article.Status.PUBLISHED, published_at=now, owner=author, created_by=author,
                              updated_by=author)
            article.full_clean()
            article.save()
            article.set_tags(tags)
            if n % 4 == 0:  # edited once by the supervisor: a version to compare
                article.body = body + ("\n\n**注意**：处理前先确认设备在保修期内。" if not title.isascii()
                                       else "\n\n**Note**: check the warranty first.")
                article.updated_by = editor
                article.save()
            for i, reader in enumerate(readers[: n % 5 + 1]):
                ArticleVote.objects.create(article=article, user=reader, helpful=(i + n) % 4 != 0)
            Article.all_objects.filter(pk=article.pk).update(
                view_count=(n * 37) % 200 + 5,
                helpful_count=ArticleVote.objects.filter(article=article, helpful=True).count(),
                not_helpful_count=ArticleVote.objects.filter(article=article, helpful=False).count())
    return len(ARTICLES)
